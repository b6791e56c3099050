#!/usr/bin/env bash
# FlowForge: helpers shared by the scripts that run the workload profiles in scripts/profiles/
# (week1_pilot.sh, eval_detection.sh): profile headers and how busy the machine is around a run.
# Sourced, not run.

header_value() { # FILE KEY -> the value of the first '# KEY: value' line of the file's leading comments
    sed -n '1,20p' "$1" | sed -n "s/^# *$2: *//p" | head -n 1 | tr -d '\r' | sed 's/[[:space:]]*$//'
}

cpu_totals() { # "TOTAL IDLE" jiffies of all cores together, from /proc/stat
    # shellcheck disable=SC2016 # an awk program, not shell
    awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $5 + $6 }' /proc/stat 2>/dev/null || echo "0 0"
}

busy_between() { # "TOTAL IDLE" "TOTAL IDLE" SCALE -> busy share between the two snapshots x SCALE, as an integer
    awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; i = y[2] - x[2];
        printf "%d", (t > 0 ? s * (t - i) / t : 0) }'
}

machine_busy_percent() { # percent of all cores busy over the next second (other work competing with a profile)
    local a
    a=$(cpu_totals)
    sleep 1
    busy_between "$a" "$(cpu_totals)" 100
}
