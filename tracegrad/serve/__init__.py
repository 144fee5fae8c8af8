"""``tracegrad serve``: the classroom web page and its JSON API.

An interface layer: it may import anything in tracegrad; nothing in tracegrad
imports it (``import tracegrad`` never loads Starlette). Calls into the rest of
tracegrad all go through :mod:`tracegrad.serve.api`; :mod:`.app` is the Starlette
application, :mod:`.worker` the bounded worker processes, :mod:`.handlers` what a
worker does with a request, :mod:`.views` the pages (templates under
``templates/serve/``) and :mod:`.layout` the graph's layout.
"""
