"""Rendering: traces and worked problems → view models → Jinja templates.

The view models (:mod:`.model`) hold ready strings and numbers; templates only
lay them out. Number formatting and the rounding policy live in
:mod:`.numbers`, escaping in :mod:`.escape`, prose in the message catalogs.
"""
