"""End customers, deals, registration workflow, name matching and conflicts."""
