#!/bin/sh
# PID 1 of a User-mode Linux boot whose root is the host's / (hostfs).
#
# The kernel passes unknown command line words of the form key=value to init as its
# environment: uml_work (the test's temp dir, the only host directory written to),
# uml_repo (the checkout, read only),
# uml_scenario (the script to run) and uml_modules (modules to load up front,
# comma-separated: the command line has no spaces inside a value).
#
# Everything else a daemon would write (/run, /tmp, /var/tmp) goes to tmpfs, so the
# host sees nothing but uml_work. The scenario's exit status lands in
# $uml_work/scenario.status; the machine then powers off without touching wtmp.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
# uml_work is usually under /tmp, and the checkout (uml_repo: the scenario and the
# driver) may be too, as in a CI clone: keep both reachable at their own paths over
# the tmpfs.
mkdir /run/uml-work /run/uml-repo
mount --bind "$uml_work" /run/uml-work
mount --bind "$uml_repo" /run/uml-repo
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mkdir -p "$uml_repo" && mount --bind /run/uml-repo "$uml_repo"
mkdir -p "$uml_work" && mount --bind /run/uml-work "$uml_work"
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts

# The UML modules live under their own tree; the kernel's on-demand loads (crypto
# algorithms for the SAs) must look there too.
modroot="$uml_work/modroot"
printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$modroot" > "$uml_work/modprobe"
chmod 0755 "$uml_work/modprobe"
echo "$uml_work/modprobe" > /proc/sys/kernel/modprobe
# shellcheck disable=SC2046  # a word list on purpose
modprobe -d "$modroot" -a $(echo "$uml_modules" | tr , ' ')

sh "$uml_scenario" > "$uml_work/scenario.log" 2>&1
echo "$?" > "$uml_work/scenario.status"
sync
poweroff -f --no-wtmp
