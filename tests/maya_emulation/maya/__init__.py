"""Test-only emulation of the parts of Autodesk Maya that xception-maya uses.

Never shipped and never imported by the product: ``tests/maya_session.py`` puts
``tests/maya_emulation`` first on ``sys.path`` when real Maya is not importable.
See ``tests/maya_emulation/README.md`` for what is emulated and how faithfully.
"""
