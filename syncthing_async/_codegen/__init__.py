"""The endpoint spec (``spec.py``) and the generator that turns it into ``syncthing_async/_generated``.

``spec`` is plain data and is imported at runtime (``syncthing_async.ENDPOINTS``); ``render`` and
``__main__`` are only used to regenerate: ``python -m syncthing_async._codegen [--check]``.
"""
