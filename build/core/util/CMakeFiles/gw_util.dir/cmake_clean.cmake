file(REMOVE_RECURSE
  "CMakeFiles/gw_util.dir/buf.c.o"
  "CMakeFiles/gw_util.dir/buf.c.o.d"
  "CMakeFiles/gw_util.dir/diag.c.o"
  "CMakeFiles/gw_util.dir/diag.c.o.d"
  "libgw_util.a"
  "libgw_util.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/gw_util.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
