# CTest bench_floor_quick: run `ccdma-bench floor --quick --json` and check
# that every figure is there and sane (not that any meets a target: a test
# never depends on timing).
#   cmake -DBENCH=<ccdma-bench> [-DEMULATOR=<prog|arg|...>] -P check_floor_json.cmake
cmake_minimum_required(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/check_json.cmake)

if(NOT BENCH)
  message(FATAL_ERROR "BENCH (the ccdma-bench program) is not set")
endif()
check_json_run(${BENCH} floor --quick --json)

json_str(v benchmark)
if(NOT v STREQUAL "floor")
  check_fail("benchmark is '${v}', not floor")
endif()
json_bool(v cross_core)
# Each figure is a median time in ns, >= 0 (the clock's cost is subtracted,
# and a 4 KiB copy may take less than the clock's step) and below a second,
# even under a sanitizer or qemu-user; a 128 KiB copy takes measurable time
# everywhere.  A ratio is null when its divisor measured 0.
foreach(size 4k 128k)
  foreach(k hot_ns out_cross_ns in_cross_ns dev_write_after_read_ns
            dev_read_after_write_ns in_nt_cross_ns dev_read_after_nt_ns)
    json_num(v copy_${size} ${k})
    check_range(copy_${size}.${k} "${v}" 0 1000000000)
  endforeach()
  foreach(k out_vs_hot in_nt_vs_in write_path_nt_vs_memcpy)
    string(JSON type ERROR_VARIABLE e TYPE "${out}" copy_${size} ${k})
    if(NOT type STREQUAL "NULL")
      json_num(v copy_${size} ${k})
      check_range(copy_${size}.${k} "${v}" 0 1000000000)
    endif()
  endforeach()
endforeach()
json_num(v copy_128k hot_ns)
check_range("copy_128k.hot_ns (a 128 KiB copy is timed)" "${v}" 0.001 1000000000)
check_json_done(bench_floor_quick)
