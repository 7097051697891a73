"""A visitor's whole profile as people see it: the admin page and its readers."""
