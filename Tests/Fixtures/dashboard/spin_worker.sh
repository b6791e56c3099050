#!/bin/sh
# FlowForge browser-check worker: spins one core and prints the same line over and over, the textbook
# runaway the detector must flag (busy CPU + repetitive, low-variety output). Runs until it is stopped.
i=0
while :; do
    i=$((i + 1))
    if [ $((i % 2000)) -eq 0 ]; then
        echo "retrying connection to db.internal:5432 (attempt failed, will retry)"
    fi
done
