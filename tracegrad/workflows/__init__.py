"""Workflows: what a command or a page does, from a problem file to a result
(derive, check, verify, explain, train, variants). The only modules that reach every
layer below."""
