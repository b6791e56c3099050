#!/bin/sh
# FlowForge browser-check worker: spins one core and prints the same line over and over, the textbook
# runaway the detector must flag (busy CPU + repetitive, low-variety output). Runs until it is stopped.
# It says so with sd_notify first (STATUS= shows in the live-runs row), when systemd-notify is there.
command -v systemd-notify >/dev/null 2>&1 && systemd-notify --ready --status="spinning on purpose"
i=0
while :; do
    i=$((i + 1))
    if [ $((i % 2000)) -eq 0 ]; then
        echo "retrying connection to db.internal:5432 (attempt failed, will retry)"
    fi
done
