# virtio-net: the driver against ccdma-devsim --net, DPDK's testpmd and
# in-process hostile devices.
# dpdk-testpmd (Debian: dpdk-dev) is passed to the tests that use it, ""
# when missing or when cross compiling (a native testpmd speaks vhost-user
# in the host's byte order): they skip then.
if(CMAKE_CROSSCOMPILING)
  set(CCDMA_TESTPMD "")
else()
  find_program(CCDMA_TESTPMD_PROGRAM dpdk-testpmd)
  if(CCDMA_TESTPMD_PROGRAM)
    set(CCDMA_TESTPMD ${CCDMA_TESTPMD_PROGRAM})
  else()
    set(CCDMA_TESTPMD "")
  endif()
endif()

# ccdma_add_net_test(name [LABEL l] [TIMEOUT s] [CASES c...]): run as
# `name [case] <testpmd or ""> <ccdma-devsim>`.
function(ccdma_add_net_test t)
  cmake_parse_arguments(A "" "LABEL;TIMEOUT" "CASES" ${ARGN})
  add_executable(${t} ${t}.c)
  target_link_libraries(${t} PRIVATE ccdma_internal ccdma_netjob Threads::Threads)
  target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
  if(NOT A_LABEL)
    set(A_LABEL device)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 180)
  endif()
  set(names "")
  if(A_CASES)
    foreach(c ${A_CASES})
      string(REPLACE "-" "_" n "${t}_${c}")
      add_test(NAME ${n} COMMAND ${t} ${c} "${CCDMA_TESTPMD}"
        $<TARGET_FILE:ccdma-devsim>)
      list(APPEND names ${n})
    endforeach()
  else()
    add_test(NAME ${t} COMMAND ${t} "${CCDMA_TESTPMD}"
      $<TARGET_FILE:ccdma-devsim>)
    set(names ${t})
  endif()
  set_tests_properties(${names} PROPERTIES TIMEOUT ${A_TIMEOUT}
    SKIP_RETURN_CODE 77 LABELS "${A_LABEL}")
endfunction()

# Tests that start ccdma-devsim run native builds only: a cross build's
# test would exec the foreign device binary without the emulator.
if(NOT CMAKE_CROSSCOMPILING)
  ccdma_add_net_test(e2e_net_devsim)
  ccdma_add_net_test(net_pingpong)
endif()
# ccdma-devsim --net --misbehave MODE: each net mode (and the used-ring
# modes that apply to any device) breaks the driver with its reason.
if(NOT CMAKE_CROSSCOMPILING)
  ccdma_add_net_test(e2e_net_misbehave CASES net-nb-high net-nb-zero
    net-len-over net-len-short net-csum net-gso net-nb-two id-range
    id-unposted double idx-ahead idx-back net-tx-range net-tx-unposted
    net-tx-double)
  # The same through ccdma-net --socket, as a user runs it: exit 1, why.
  ccdma_add_net_test(net_tool_misbehave CASES net-nb-high net-len-over
    net-tx-range)
endif()
ccdma_add_net_test(e2e_net_dpdk)
ccdma_test_cpu_heavy(e2e_net_dpdk)
ccdma_add_net_test(virtio_net_hostile LABEL unit TIMEOUT 120 CASES
  echo-conf echo-direct echo-nomrg bad-input nb-high nb-nomrg len-over
  len-short id-range tx-double csum tx-len not-vhost zc zc-nospare zc-nomrg
  zc-segs mq mq-ack-err mq-ack-bad mq-ack-len mq-no-answer mq-pairs-0
  mq-pairs-huge mq-pairs-few)

# ccdma-net, as a user runs it: echo against the ccdma-devsim --net it
# starts (every frame verified), and a clear word when DPDK is missing.
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME ccdma_net_tool_echo
    COMMAND ccdma-net --devsim $<TARGET_FILE:ccdma-devsim> --count 3000
            --size 1500 --verify --quiet)
  set_tests_properties(ccdma_net_tool_echo PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "3000 sent, 3000 back.*lost 0, duplicated 0, reordered 0, corrupt 0")
  # --rw pingpong: every frame back, round-trip percentiles printed.
  add_test(NAME ccdma_net_tool_pingpong
    COMMAND ccdma-net --devsim $<TARGET_FILE:ccdma-devsim> --rw pingpong
            --count 300 --verify --quiet)
  set_tests_properties(ccdma_net_tool_pingpong PROPERTIES TIMEOUT 120
    LABELS device PASS_REGULAR_EXPRESSION
    "300 sent, 300 back.*round trip \\(ns, 300 frames\\): min [1-9][0-9]* p50 [1-9][0-9]* p90 [1-9][0-9]* p99 [1-9][0-9]* p99.9 [1-9][0-9]* max [1-9][0-9]* mean [1-9].*lost 0, duplicated 0, reordered 0, corrupt 0")
  # --batch 3: no send call carries more than 3 frames, all verified.
  add_test(NAME ccdma_net_tool_batch
    COMMAND ccdma-net --devsim $<TARGET_FILE:ccdma-devsim> --count 2000
            --batch 3 --verify --quiet)
  set_tests_properties(ccdma_net_tool_batch PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "2000 sent, 2000 back.*batch 3: [0-9]+ send calls, at most 3 frames in one.*lost 0, duplicated 0, reordered 0, corrupt 0")
  # --zero-copy: frames checked in place in the shared receive buffers
  # (9000 bytes: five mergeable buffers each, gathered), all verified.
  add_test(NAME ccdma_net_tool_zc
    COMMAND ccdma-net --devsim $<TARGET_FILE:ccdma-devsim> --count 2000
            --size 9000 --zero-copy --verify --quiet)
  set_tests_properties(ccdma_net_tool_zc PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "zero-copy receive.*2000 sent, 2000 back.*lost 0, duplicated 0, reordered 0, corrupt 0")
  # --queues 4: one thread per queue pair against a ccdma-devsim with 4.
  add_test(NAME ccdma_net_tool_mq
    COMMAND ccdma-net --devsim $<TARGET_FILE:ccdma-devsim> --count 8000
            --queues 4 --size 1500 --verify --quiet)
  # Threads on one device: TSan runs it too (concurrency).
  set_tests_properties(ccdma_net_tool_mq PROPERTIES TIMEOUT 120 LABELS "device;concurrency"
    PASS_REGULAR_EXPRESSION "queue pairs: 4 of 4.*8000 sent, 8000 back.*lost 0, duplicated 0, reordered 0, corrupt 0")
endif()
add_test(NAME ccdma_net_tool_mq_bad COMMAND ccdma-net --queues 2 --rw pingpong)
set_tests_properties(ccdma_net_tool_mq_bad PROPERTIES TIMEOUT 60 LABELS unit
  PASS_REGULAR_EXPRESSION "--queues with --rw pingpong: several queue pairs are for echo")
add_test(NAME ccdma_net_tool_zc_bad COMMAND ccdma-net --zero-copy --rw pingpong)
set_tests_properties(ccdma_net_tool_zc_bad PROPERTIES TIMEOUT 60 LABELS unit
  PASS_REGULAR_EXPRESSION "--zero-copy with --rw pingpong: zero-copy receive is for echo and rx")
add_test(NAME ccdma_net_tool_batch_bad COMMAND ccdma-net --batch 33)
set_tests_properties(ccdma_net_tool_batch_bad PROPERTIES TIMEOUT 60 LABELS unit
  PASS_REGULAR_EXPRESSION "--batch 33: a number 1..32")
add_test(NAME ccdma_net_tool_no_dpdk
  COMMAND ccdma-net --backend dpdk --testpmd /nonexistent/dpdk-testpmd)
set_tests_properties(ccdma_net_tool_no_dpdk PROPERTIES TIMEOUT 60 LABELS unit
  PASS_REGULAR_EXPRESSION "apt-get install dpdk-dev")

# --rw tx against testpmd rxonly and --rw rx against testpmd txonly (its
# 64-byte frames): every frame used by the device / received, none bad.
# Only where testpmd runs natively; tx and rx with ccdma-devsim refused.
if(CCDMA_TESTPMD)
  add_test(NAME ccdma_net_tool_tx
    COMMAND ccdma-net --rw tx --backend dpdk --testpmd ${CCDMA_TESTPMD}
            --count 20000 --verify --quiet)
  set_tests_properties(ccdma_net_tool_tx PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "20000 sent, 20000 used by the device.*lost 0, duplicated 0, reordered 0, corrupt 0")
  add_test(NAME ccdma_net_tool_rx
    COMMAND ccdma-net --rw rx --backend dpdk --testpmd ${CCDMA_TESTPMD}
            --count 20000 --verify --quiet)
  set_tests_properties(ccdma_net_tool_rx PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "20000 received \\(1280000 bytes\\).*lost 0, duplicated 0, reordered 0, corrupt 0")
  # Zero-copy against DPDK: the io loop echo, 1500-byte frames verified in
  # place; and --rw rx.
  add_test(NAME ccdma_net_tool_zc_dpdk
    COMMAND ccdma-net --backend dpdk --testpmd ${CCDMA_TESTPMD} --count 20000
            --size 1500 --zero-copy --verify --quiet)
  set_tests_properties(ccdma_net_tool_zc_dpdk PROPERTIES TIMEOUT 120
    LABELS device PASS_REGULAR_EXPRESSION
    "zero-copy receive.*20000 sent, 20000 back.*lost 0, duplicated 0, reordered 0, corrupt 0")
  add_test(NAME ccdma_net_tool_zc_rx
    COMMAND ccdma-net --rw rx --backend dpdk --testpmd ${CCDMA_TESTPMD}
            --count 20000 --zero-copy --verify --quiet)
  set_tests_properties(ccdma_net_tool_zc_rx PROPERTIES TIMEOUT 120 LABELS device
    PASS_REGULAR_EXPRESSION "zero-copy receive.*20000 received \\(1280000 bytes\\).*lost 0, duplicated 0, reordered 0, corrupt 0")
  # Two queue pairs against testpmd (--rxq 2 --txq 2, io loop: each
  # frame back on the pair it went out on), every frame verified.
  add_test(NAME ccdma_net_tool_mq_dpdk
    COMMAND ccdma-net --backend dpdk --testpmd ${CCDMA_TESTPMD} --count 20000
            --queues 2 --size 1500 --verify --quiet)
  set_tests_properties(ccdma_net_tool_mq_dpdk PROPERTIES TIMEOUT 120
    LABELS device PASS_REGULAR_EXPRESSION
    "queue pairs: 2 of [0-9]+.*20000 sent, 20000 back.*lost 0, duplicated 0, reordered 0, corrupt 0")
  ccdma_test_cpu_heavy(ccdma_net_tool_tx ccdma_net_tool_rx ccdma_net_tool_zc_dpdk
                       ccdma_net_tool_zc_rx ccdma_net_tool_mq_dpdk)
endif()
add_test(NAME ccdma_net_tool_rw_devsim COMMAND ccdma-net --rw rx)
set_tests_properties(ccdma_net_tool_rw_devsim PROPERTIES TIMEOUT 60 LABELS unit
  PASS_REGULAR_EXPRESSION "--rw rx: needs --backend dpdk or --socket")
