"""The Maya layer: the node, the commands, the shelf, menu and Attribute Editor template.

Thin: it turns Maya data into core calls and core results into attribute values. Nothing
here is imported by the core; importing ``xception_maya`` outside Maya never touches maya.
"""
