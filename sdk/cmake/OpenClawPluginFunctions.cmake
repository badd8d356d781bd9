# openclaw_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...])
#
# Builds <name>.so the way every gateway plugin must be built: a MODULE
# library with no "lib" prefix, hidden visibility (only openclaw_plugin_entry
# is exported), position-independent, and linked with -Wl,--no-undefined so a
# plugin can never depend on gateway symbols. Used by in-tree plugins and by
# out-of-tree plugins through find_package(OpenClawPlugin).
function(openclaw_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT name MATCHES "^(channel|provider|storage|auth)-[a-z0-9][a-z0-9-]*$")
    message(FATAL_ERROR "openclaw_add_plugin: '${name}' must be <kind>-<name> with kind "
                        "channel, provider, storage or auth")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    C_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON)
  target_link_options(${name} PRIVATE "LINKER:--no-undefined" "LINKER:--as-needed")
  target_link_libraries(${name} PRIVATE OpenClawPlugin::sdk ${ARG_LIBRARIES})
endfunction()
