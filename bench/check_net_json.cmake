# CTest bench_net_quick: run `ccdma-bench net --quick --json` against
# dpdk-testpmd and check that every figure is there and sane, and that
# the modes did what they say (confidential transmit bounced, direct
# bounced nothing).  No figure is held to its target: a test never
# depends on timing.
#   cmake -DBENCH=<ccdma-bench> -DTESTPMD=<dpdk-testpmd> -P check_net_json.cmake
cmake_minimum_required(VERSION 3.16)
include(${CMAKE_CURRENT_LIST_DIR}/check_json.cmake)

if(NOT BENCH OR NOT TESTPMD)
  message(FATAL_ERROR "BENCH (ccdma-bench) and TESTPMD (dpdk-testpmd) must be set")
endif()
# Short runs: a sanitizer build is slow, and only the fields are checked.
check_json_run(${BENCH} net --quick --json --seconds 0.2 --testpmd ${TESTPMD})

json_str(v benchmark)
if(NOT v STREQUAL "net")
  check_fail("benchmark is '${v}', not net")
endif()
json_num(v internal_errors)
check_eq(internal_errors "${v}" 0)
json_num(v rounds)
check_eq(rounds "${v}" 1)
foreach(c tx_64 tx_1500 rx_64 rx_1500)
  json_num(size cases ${c} size)
  string(REGEX REPLACE "^[a-z]+_" "" want "${c}")
  check_eq(cases.${c}.size "${size}" ${want})
  # Each front-end moved frames, and used CPU doing it (the floor of a
  # 64-byte copy may measure 0 after the clock's cost).
  foreach(m confidential direct dpdk)
    json_num(pps cases ${c} ${m} pps)
    check_range(cases.${c}.${m}.pps "${pps}" 1 1e12)
    json_num(v cases ${c} ${m} cpu_per_pkt_ns)
    check_range(cases.${c}.${m}.cpu_per_pkt_ns "${v}" 0.001 1e12)
    json_num(v cases ${c} ${m} dev_cpu_per_pkt_ns)
    check_range(cases.${c}.${m}.dev_cpu_per_pkt_ns "${v}" 0 1e12)
    json_num(v cases ${c} ${m} gbps)
    check_range(cases.${c}.${m}.gbps "${v}" 0 1e6)
  endforeach()
  json_num(v cases ${c} floor_ns)
  check_range(cases.${c}.floor_ns "${v}" 0 1e9)
  json_num(v cases ${c} tax_ns)
  json_num(v cases ${c} conf_vs_direct)
  check_range(cases.${c}.conf_vs_direct "${v}" 0.000001 1e6)
  json_num(v cases ${c} direct_vs_dpdk)
  check_range(cases.${c}.direct_vs_dpdk "${v}" 0.000001 1e6)
  json_num(v cases ${c} bounced_bytes_direct)
  check_eq(cases.${c}.bounced_bytes_direct "${v}" 0)
endforeach()
# A transmitted frame is bounced in confidential mode: at least one frame's
# bytes.
foreach(c tx_64 tx_1500)
  json_num(v cases ${c} bounced_bytes_confidential)
  string(REGEX REPLACE "^tx_" "" size "${c}")
  check_range(cases.${c}.bounced_bytes_confidential "${v}" ${size} 1e15)
endforeach()
foreach(k net_direct_vs_dpdk_64 net_conf_vs_direct_1500)
  json_num(v ${k})
  check_range(${k} "${v}" 0.000001 1e6)
  json_num(v targets ${k})
endforeach()
json_num(v net_tax_vs_floor_1500)
json_num(v targets net_tax_vs_floor_1500)
check_json_done(bench_net_quick)
