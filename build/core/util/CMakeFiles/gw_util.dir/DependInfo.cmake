
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/util/buf.c" "core/util/CMakeFiles/gw_util.dir/buf.c.o" "gcc" "core/util/CMakeFiles/gw_util.dir/buf.c.o.d"
  "/work/main/core/util/diag.c" "core/util/CMakeFiles/gw_util.dir/diag.c.o" "gcc" "core/util/CMakeFiles/gw_util.dir/diag.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
