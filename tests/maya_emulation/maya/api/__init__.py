"""Emulated ``maya.api`` (Python API 2.0): OpenMaya, OpenMayaUI, OpenMayaAnim."""
