# SPDX-License-Identifier: ISC
# Helpers for the kube family (7xx): a Kubernetes API stand-in on loopback
# (tests/standin/kube_standin.py) and real kubectl pointed at it.
#
#   standin_start [ARGS]  starts the stand-in in $T/api (HTTPS, self-signed
#                         CA and bearer token in $T/api/kubeconfig); sets
#                         KUBECONFIG, CTL (control URL) and K (kubectl with a
#                         fresh --cache-dir)
#   standin_stop          asks it to quit (it also quits when idle)
#   ctl_get PATH / ctl_post PATH   control endpoint (log, bodies, fault)

standin_start() {
	STANDIN=$SOTTO_ROOT/tests/standin/kube_standin.py
	mkdir -p "$T/api"
	python3 "$STANDIN" --dir "$T/api" --idle-timeout 90 "$@" \
	    >"$T/api/stdout" 2>"$T/api/stderr" 3>&- &
	STANDIN_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/api/port" ] && break
		sleep 0.1
	done
	[ -s "$T/api/port" ] || { cat "$T/api/stderr" >&2; return 1; }
	export KUBECONFIG=$T/api/kubeconfig
	CTL=http://127.0.0.1:$(cat "$T/api/ctl_port")
	K="kubectl --cache-dir $T/kcache --request-timeout=20s"
}

standin_stop() {
	[ -n "${CTL:-}" ] && curl -s -m 2 -X POST "$CTL/quit" >/dev/null 2>&1
	[ -n "${STANDIN_PID:-}" ] && wait "$STANDIN_PID" 2>/dev/null
	return 0
}

ctl_get() { curl -s -m 10 "$CTL$1"; }
ctl_post() { curl -s -m 10 -X POST "$CTL$1" >/dev/null; }
