"""Code written by ``python -m syncthing_async._codegen``. DO NOT EDIT."""
