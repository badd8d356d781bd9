# Empty compiler generated dependencies file for gw_util.
# This may be replaced when dependencies are built.
