# xception-maya: a Maya module whose root is this folder (plug-ins/, scripts/, icons/,
# models/ and the xception_maya package). For Maya 2024 and later (Python 3.10+).
#
# Installing by hand: copy this file into a modules folder (~/maya/modules,
# Documents/maya/modules, ~/Library/Preferences/Autodesk/maya/modules) and replace the "."
# at the end of the "+" line by the absolute path of this folder. Dragging install.py onto a
# Maya viewport does that for you, and installs the Python dependencies.
#
# Maya adds the module's plug-ins/, scripts/ and icons/ folders to MAYA_PLUG_IN_PATH,
# MAYA_SCRIPT_PATH (and PYTHONPATH) and XBMLANGPATH by itself (on Linux with the %B icons
# need); only the package at the module's root is added below. No MAYAVERSION filter: the
# same files serve every Maya with Python 3.10 or later, and numpy, Pillow and onnxruntime
# live in mayapy's user site, which is per Python version already.
#
# Comments stay above the "+" line: Maya reads a comment or a blank line below it as the end
# of the entry and ignores what follows until the next "+" line.
+ xception-maya 0.1.0 .
PYTHONPATH+:=.
