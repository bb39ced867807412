"""xception-maya: an ImageNet-trained Xception classifier for Maya, on onnxruntime.

The core (everything here but ``xception_maya.maya``) never imports maya.
"""

__version__ = "0.1.0"
