file(REMOVE_RECURSE
  "libgw_util.a"
)
