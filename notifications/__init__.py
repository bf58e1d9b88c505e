"""In-app and email notifications: who is told what, in the reader's language."""
