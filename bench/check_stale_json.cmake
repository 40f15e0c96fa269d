# CTest bench_stale: run `ccdma-bench stale --json` and check every field:
# present, figures consistent, and the bytes CCDMA_POOL_ZERO cleared exact
# (the whole slot after an owner that dirtied all of it, nothing without
# the flag, 512 bytes to the whole slot after an owner that dirtied 512:
# the pool tracks dirt in its own granule, a page for large slots).  Not
# that any figure meets a target: that is timing.
#   cmake -DBENCH=<ccdma-bench> [-DEMULATOR=<prog|arg|...>] -P check_stale_json.cmake
cmake_minimum_required(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/check_json.cmake)

if(NOT BENCH)
  message(FATAL_ERROR "BENCH (the ccdma-bench program) is not set")
endif()
check_json_run(${BENCH} stale --json)

json_str(v benchmark)
if(NOT v STREQUAL "stale")
  check_fail("benchmark is '${v}', not stale")
endif()
json_num(rounds rounds)
check_range(rounds "${rounds}" 1 1000)

foreach(s "4k;4096" "64k;65536" "256k;262144")
  list(GET s 0 name)
  list(GET s 1 bytes)
  set(o stale_${name})
  json_num(v ${o} bytes)
  check_eq(${o}.bytes "${v}" "${bytes}")
  json_num(iters ${o} iterations)
  if(NOT iters STREQUAL "")
    math(EXPR want "50 * 1048576 / ${bytes}")
    check_eq(${o}.iterations "${iters}" "${want}")
  endif()
  # Times: positive and below 1 ms per mapping (sanitizers, qemu-user).
  foreach(k none_ns linux_copy_ns ccdma_zero_ns ccdma_zero_after_512b_ns)
    json_num(${k} ${o} ${k})
    check_range(${o}.${k} "${${k}}" 0.0001 1000000)
  endforeach()
  json_num(ratio ${o} extra_ratio_ccdma_vs_linux)
  check_range(${o}.extra_ratio_ccdma_vs_linux "${ratio}" -1000000 1000000)
  # Zeroed bytes per mapping, from the pool's counter.
  json_num(z ${o} none_zeroed_bytes)
  check_eq(${o}.none_zeroed_bytes "${z}" 0)
  json_num(z ${o} linux_copy_zeroed_bytes)
  check_eq(${o}.linux_copy_zeroed_bytes "${z}" 0)
  json_num(zall ${o} ccdma_zero_zeroed_bytes)
  check_eq(${o}.ccdma_zero_zeroed_bytes "${zall}" "${bytes}")
  json_num(z512 ${o} ccdma_zero_after_512b_zeroed_bytes)
  check_range(${o}.ccdma_zero_after_512b_zeroed_bytes "${z512}" 512 "${bytes}")
endforeach()

check_json_done(bench_stale)
