# CTest bench_blk_quick: run `ccdma-bench blk --quick --json` and check that
# every field is present and sane (no figure is held to its target: a test
# never depends on timing).
#   cmake -DBENCH=<ccdma-bench> -DDEVSIM=<ccdma-devsim> [-DQSD=<program>]
#         -P check_blk_json.cmake
# Without QSD only ccdma-devsim is measured.
cmake_minimum_required(VERSION 3.19)

include(${CMAKE_CURRENT_LIST_DIR}/check_json.cmake)
set(plotdir "${CMAKE_CURRENT_BINARY_DIR}/plots-blk")
file(REMOVE_RECURSE "${plotdir}")
set(args blk --quick --json --devsim ${DEVSIM} --plot ${plotdir})
set(backends devsim)
if(QSD)
  list(APPEND args --qsd ${QSD})
  list(APPEND backends qsd_null)
else()
  list(APPEND args --only devsim)
endif()
execute_process(COMMAND ${BENCH} ${args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${err}")
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ccdma-bench ${args} exited with ${rc}")
endif()

set(failures "")
function(need_num path)
  string(JSON type ERROR_VARIABLE e TYPE "${out}" ${path})
  if(e OR NOT type STREQUAL "NUMBER")
    set(failures "${failures}  ${path}: missing or not a number\n" PARENT_SCOPE)
    return()
  endif()
  string(JSON v GET "${out}" ${path})
  set(last "${v}" PARENT_SCOPE)
endfunction()
# need_positive(path): a number above 0.
function(need_positive path)
  string(JSON v ERROR_VARIABLE e GET "${out}" ${path})
  if(e OR v STREQUAL "" OR NOT v GREATER 0)
    string(REPLACE ";" "." name "${path}")
    set(failures "${failures}  ${name} is missing or not above 0\n" PARENT_SCOPE)
  endif()
endfunction()

need_num(internal_errors)
if(NOT last EQUAL 0)
  string(APPEND failures "  internal_errors is ${last}\n")
endif()
# Every case of every back-end: CPU per I/O of both processes in both
# modes above 0, the floor at least 0, the tax and its ratio to the floor (any
# sign: a test never depends on timing), the throughput in both modes and
# their ratio above 0.
set(cases 4k_read_qd1 4k_read_qd32 4k_write_qd1 4k_write_qd32 128k_read_qd1
          128k_read_qd32 128k_write_qd1 128k_write_qd32 128k_read_qd1_touched
          128k_write_qd1_touched)
# Persistent slots (--slot-size, default 64 KiB): the 4 KiB cases went
# through them, the 128 KiB ones (larger than a slot) did not.
need_num(slot_size)
set(slot_size "${last}")
foreach(b ${backends})
  foreach(c ${cases})
    need_num("${b};${c};slot_parts")
    if(NOT last STREQUAL "" AND NOT slot_size STREQUAL "")
      if(c MATCHES "^4k_" AND slot_size GREATER_EQUAL 4096 AND NOT last GREATER 0)
        string(APPEND failures "  ${b}.${c}.slot_parts is 0 with slots of ${slot_size}\n")
      elseif(c MATCHES "^128k_" AND slot_size LESS 131072 AND NOT last EQUAL 0)
        string(APPEND failures "  ${b}.${c}.slot_parts is ${last} with slots of ${slot_size}\n")
      endif()
    endif()
    foreach(m cpu_per_io_ns_confidential cpu_per_io_ns_direct
              dev_cpu_per_io_ns_confidential dev_cpu_per_io_ns_direct
              iops_confidential iops_direct mib_s_confidential mib_s_direct)
      need_num("${b};${c};${m}")
      if(last STREQUAL "" OR NOT last GREATER 0)
        string(APPEND failures "  ${b}.${c}.${m} is not above 0\n")
      endif()
    endforeach()
    # The floor has the clock's cost taken off: a 4 KiB copy may measure
    # 0 (ccdma-bench floor says the same).
    need_num("${b};${c};floor_ns")
    if(last STREQUAL "" OR last LESS 0)
      string(APPEND failures "  ${b}.${c}.floor_ns ${last} is below 0\n")
    endif()
    foreach(m tax_ns tax_vs_floor tax_vs_floor_min tax_vs_floor_max
              p50_us_confidential p50_us_direct)
      need_num("${b};${c};${m}")
    endforeach()
    # Any positive ratio: two 0.1 s runs on a busy machine can differ
    # 13-fold (seen), so no upper bound is a fact about the code.
    need_num("${b};${c};throughput_ratio")
    if(last STREQUAL "" OR NOT last GREATER 0)
      string(APPEND failures "  ${b}.${c}.throughput_ratio ${last} is not above 0\n")
    endif()
  endforeach()
endforeach()
foreach(k tax_vs_floor_4k tax_vs_floor_128k)
  need_num(${k})
endforeach()
need_num(touched_ratio_min)
if(last STREQUAL "" OR NOT last GREATER 0)
  string(APPEND failures "  touched_ratio_min ${last} is not above 0\n")
endif()
need_num("targets;tax_vs_floor_max")
need_num("targets;touched_ratio_min")
# Scaling (1, 2, 4 jobs on their own queues of one device): every figure
# of every back-end; the worst of each over back-ends and its target.
foreach(b ${backends})
  foreach(n 1 2 4)
    foreach(m iops cpu_per_io_ns pool_peak_bytes bytes_in_flight)
      need_positive("scaling;${b};jobs_${n};${m}")
    endforeach()
    need_num("scaling;${b};jobs_${n};alloc_wait_max_ns")
    if(last STREQUAL "" OR last LESS 0)
      string(APPEND failures "  scaling.${b}.jobs_${n}.alloc_wait_max_ns is below 0\n")
    endif()
  endforeach()
endforeach()
foreach(k scale_cpu_4q_vs_1q scale_pool_peak_vs_in_flight)
  need_positive(${k})
  need_num("targets;${k}")
endforeach()
need_num(scale_alloc_wait_max_ns)
need_num("targets;scale_alloc_wait_max_ns")
# Devices (1, 4 and 16 ccdma-devsim on one pool): every figure of every
# count, the worst of each and its target.
foreach(n 1 4 16)
  foreach(m iops cpu_per_io_ns pool_peak_bytes bytes_in_flight)
    need_positive("scaling_devices;devices_${n};${m}")
  endforeach()
  foreach(m alloc_wait_max_ns slot_bytes)
    need_num("scaling_devices;devices_${n};${m}")
    if(last STREQUAL "" OR last LESS 0)
      string(APPEND failures "  scaling_devices.devices_${n}.${m} is below 0\n")
    endif()
  endforeach()
endforeach()
foreach(k scale_cpu_16dev_vs_1dev scale_dev_pool_peak_vs_in_flight)
  need_positive(${k})
  need_num("targets;${k}")
endforeach()
need_num(scale_dev_alloc_wait_max_ns)
if(last STREQUAL "" OR last LESS 0)
  string(APPEND failures "  scale_dev_alloc_wait_max_ns is below 0\n")
endif()
need_num("targets;scale_dev_alloc_wait_max_ns")
# --plot: one CPU figure per back-end, one row per case, and one latency
# figure (a block of rows per case); the tax figure.
foreach(b ${backends})
  check_plot("${plotdir}" blk-${b}-cpu 10)
  check_plot("${plotdir}" blk-${b}-latency 10)
endforeach()
check_plot("${plotdir}" blk-tax 10)
string(APPEND failures "${check_failures}")
if(failures)
  message(FATAL_ERROR "ccdma-bench blk --json:\n${failures}")
endif()
message("ccdma-bench blk --json: every field present for ${backends}")
