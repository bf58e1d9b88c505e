"""Each role's home page: the state of the channel at a glance, with charts."""
