# CTest bench_floor_quick: run `ccdma-bench floor --quick --json` and check
# that every figure is there and sane (not that any meets a target: a test
# never depends on timing).
#   cmake -DBENCH=<ccdma-bench> [-DEMULATOR=<prog|arg|...>] -P check_floor_json.cmake
cmake_minimum_required(VERSION 3.16)

if(NOT BENCH)
  message(FATAL_ERROR "BENCH (the ccdma-bench program) is not set")
endif()
set(emu "")
if(EMULATOR)
  string(REPLACE "|" ";" emu "${EMULATOR}")
endif()
execute_process(COMMAND ${emu} ${BENCH} floor --quick --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ccdma-bench floor --quick --json exited with ${rc}\n${out}")
endif()
message("${out}")
if(CMAKE_VERSION VERSION_LESS 3.19)
  # No JSON parser: check that every key is there.
  foreach(k benchmark cross_core copy_4k copy_128k hot_ns out_cross_ns in_cross_ns
            dev_write_after_read_ns dev_read_after_write_ns)
    if(NOT out MATCHES "\"${k}\":")
      message(FATAL_ERROR "field ${k} missing")
    endif()
  endforeach()
  message("checked key presence only (CMake ${CMAKE_VERSION} < 3.19 has no string(JSON))")
  return()
endif()

set(failures "")
string(JSON bench ERROR_VARIABLE e GET "${out}" benchmark)
if(e OR NOT bench STREQUAL "floor")
  string(APPEND failures "  benchmark is '${bench}', not floor ${e}\n")
endif()
string(JSON cross ERROR_VARIABLE e GET "${out}" cross_core)
if(e OR NOT (cross STREQUAL "ON" OR cross STREQUAL "OFF"))
  string(APPEND failures "  cross_core is '${cross}', not a boolean ${e}\n")
endif()
# Each figure is a median time, >= 0 (the clock's cost is subtracted, and a
# 4 KiB copy may take less than the clock's step) and below a second, even
# under a sanitizer or qemu-user; a 128 KiB copy takes measurable time
# everywhere.  out_vs_hot is null when the hot copy measured 0.
foreach(size 4k 128k)
  foreach(k hot_ns out_cross_ns in_cross_ns dev_write_after_read_ns
            dev_read_after_write_ns out_vs_hot)
    string(JSON type ERROR_VARIABLE e TYPE "${out}" copy_${size} ${k})
    if(k STREQUAL "out_vs_hot" AND type STREQUAL "NULL")
      continue()
    endif()
    if(e OR NOT type STREQUAL "NUMBER")
      string(APPEND failures "  copy_${size}.${k}: missing or not a number ${e}\n")
      continue()
    endif()
    string(JSON v GET "${out}" copy_${size} ${k})
    if(v LESS 0 OR NOT v LESS 1000000000)
      string(APPEND failures "  copy_${size}.${k} = ${v}: not in [0, 1e9)\n")
    endif()
  endforeach()
endforeach()
string(JSON hot ERROR_VARIABLE e GET "${out}" copy_128k hot_ns)
if(NOT e AND NOT hot GREATER 0)
  string(APPEND failures "  copy_128k.hot_ns = ${hot}: a 128 KiB copy was not timed\n")
endif()

if(failures)
  message(FATAL_ERROR "ccdma-bench floor --quick --json: bad fields:\n${failures}")
endif()
message("bench_floor_quick: every field present and sane")
