#!/usr/bin/env bash
# Installs what a real node needs beside the kubelet (which hack/build-tools.sh builds): containerd
# and runc to run containers, the CNI plugins (bridge, host-local, portmap, in /usr/lib/cni) to give
# pods an address, and iptables, which the bridge and portmap plugins program. Debian's packages,
# installed with apt-get only when a program is missing; nothing is started or configured here:
# test/framework runs containerd with its own root, state, socket and config.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

declare -A package_of=(
	[containerd]=containerd
	[runc]=runc
	[/usr/lib/cni/bridge]=containernetworking-plugins
	[iptables]=iptables
)
missing=()
for program in "${!package_of[@]}"; do
	if [[ $program == /* ]]; then
		[ -x "$program" ] && continue
	else
		command -v "$program" >/dev/null && continue
	fi
	missing+=("${package_of[$program]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
apt_install "${missing[@]}"
