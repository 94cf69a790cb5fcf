#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A Kubernetes API stand-in for tests (spec kube-api-standin.md).

Standard library only.  Serves HTTPS on 127.0.0.1 (random port) with a
self-signed certificate made at start with `openssl req`, reports server
version 1.32, and implements the subset real kubectl and sotto reconcile
use: legacy discovery, an OpenAPI v3 stub, server-side apply with
managedFields and 409 conflicts, dry-run, GET/LIST/POST/PUT/DELETE,
json-patch, merge-patch, the status subresource, Status error bodies,
finalizers (a DELETE marks an object that has some with
deletionTimestamp, bumps its generation and keeps it until the last one
is removed; a Namespace stays Terminating until its objects are gone) and
watches (?watch=1: chunked JSON-lines events from a per-collection log,
resourceVersion, 410 Gone, bookmarks, timeoutSeconds), and the server-side
Table that `kubectl get events` asks for.

    kube_standin.py --dir DIR [--token T] [--idle-timeout S]
                    [--watch-max S] [--bookmark-interval S] [--no-bodies]

writes into DIR: port, ctl_port, ca.pem, kubeconfig (server, CA data,
bearer token).  A second, plain-HTTP port on 127.0.0.1 is the control
endpoint:
    GET  /log       request log, JSON lines (method, path, query,
                    content_type, status, body_sha256, impersonate_user,
                    impersonate (every Impersonate-* header), raw_path
                    (the request target as sent), user_agent); no bodies
    GET  /bodies    every request body, concatenated (leak assertions)
    GET  /objects   the store as JSON
    POST /fault?code=500&n=2[&retry_after=1][&hang=3][&match=/configmaps/x]
                    (match: only requests whose path?query contains it)
    POST /reset     clears the log and bodies
    POST /compact   forgets the watch event logs and ends open watches:
                    resuming from an older resourceVersion is 410 Gone
    POST /quit
    POST /podlog?namespace=NS&name=POD   appends the request body to that
                    Pod's log (GET .../pods/POD/log serves it, ?follow=true
                    streams what is appended, ?tailLines=N the last N)
    POST /clock?skew=S   the Date header of every answer is S seconds off
    POST /version?git=v1.20.3   the version /version reports
SelfSubjectAccessReview (authorization.k8s.io/v1): the caller itself (the
kubeconfig's token) may do anything; with Impersonate-User the answer
comes from the stored RBAC: ClusterRoleBindings, and RoleBindings of the
review's namespace, whose subjects name the user (a ServiceAccount
"system:serviceaccount:NS:NAME", a User) or one of its groups
(system:serviceaccounts, system:serviceaccounts:NS, system:authenticated),
matching apiGroups, resources ("*", "res", "res/sub"), verbs and
resourceNames as Kubernetes does; no aggregation, no non-resource URLs.
The server exits by itself after --idle-timeout seconds without requests
(default 120) or --max-lifetime seconds (default 1800).
"""
import argparse
import base64
import copy
import datetime
import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# (group, version, plural, kind, namespaced, has_status, short names)
KINDS = [
    ("", "v1", "namespaces", "Namespace", False, True, ["ns"]),
    ("", "v1", "configmaps", "ConfigMap", True, False, ["cm"]),
    ("", "v1", "secrets", "Secret", True, False, []),
    ("", "v1", "services", "Service", True, True, ["svc"]),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, False, ["sa"]),
    ("", "v1", "events", "Event", True, False, ["ev"]),
    ("", "v1", "pods", "Pod", True, True, ["po"]),
    ("apps", "v1", "deployments", "Deployment", True, True, ["deploy"]),
    ("apps", "v1", "statefulsets", "StatefulSet", True, True, ["sts"]),
    ("batch", "v1", "jobs", "Job", True, True, []),
    ("coordination.k8s.io", "v1", "leases", "Lease", True, False, []),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, False, []),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
     True, False, []),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole",
     False, False, []),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings",
     "ClusterRoleBinding", False, False, []),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions",
     "CustomResourceDefinition", False, True, ["crd", "crds"]),
    ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization",
     True, True, ["ks"]),
    ("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository",
     True, True, ["gitrepo"]),
]
BY_PLURAL = {(k[0], k[1], k[2]): k for k in KINDS}
META_SKIP = {"managedFields", "resourceVersion", "generation", "uid",
             "creationTimestamp", "deletionTimestamp",
             "deletionGracePeriodSeconds"}


def now_iso():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


def gv_str(g, v):
    return v if g == "" else g + "/" + v


class ApiError(Exception):
    def __init__(self, code, reason, message, name="", kind="", causes=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.name, self.kind, self.causes = name, kind, causes

    def body(self, group=""):
        d = {"name": self.name, "kind": self.kind}
        if group:
            d["group"] = group
        if self.causes:
            d["causes"] = self.causes
        return {"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "message": self.message,
                "reason": self.reason, "details": d, "code": self.code}


# ---- field sets: {"f:a": {"f:b": {}}}; lists are atomic leaves ----------

def leaves(obj, prefix=()):
    """Leaf paths of an applied object (dicts recurse, the rest is a leaf)."""
    out = set()
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            out |= leaves(v, prefix + (k,))
    else:
        out.add(prefix)
    return out


def config_leaves(obj, has_status):
    o = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    md = dict(o.get("metadata") or {})
    for k in ("name", "namespace") + tuple(META_SKIP):
        md.pop(k, None)
    o["metadata"] = md
    if not md:
        o.pop("metadata")
    if has_status:
        o.pop("status", None)
    return {p for p in leaves(o) if p}


def to_fields(paths):
    root = {}
    for p in sorted(paths):
        d = root
        for k in p:
            d = d.setdefault("f:" + k, {})
    return root


def from_fields(f, prefix=()):
    out = set()
    for k, v in (f or {}).items():
        if not k.startswith("f:"):
            continue
        p = prefix + (k[2:],)
        if v:
            out |= from_fields(v, p)
        else:
            out.add(p)
    return out


def get_path(obj, p):
    for k in p:
        if not isinstance(obj, dict) or k not in obj:
            return None, False
        obj = obj[k]
    return obj, True


def del_path(obj, p):
    stack = []
    for k in p[:-1]:
        if not isinstance(obj, dict) or k not in obj:
            return
        stack.append((obj, k))
        obj = obj[k]
    if isinstance(obj, dict):
        obj.pop(p[-1], None)
    for parent, k in reversed(stack):  # drop maps emptied by the removal
        if parent[k] == {}:
            del parent[k]
        else:
            break


def set_path(obj, p, v):
    for k in p[:-1]:
        if not isinstance(obj.get(k), dict):
            obj[k] = {}
        obj = obj[k]
    obj[p[-1]] = copy.deepcopy(v)


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    target = dict(target)
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def ptr_parts(ptr):
    if ptr == "":
        return []
    return [s.replace("~1", "/").replace("~0", "~") for s in
            ptr.split("/")[1:]]


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = ptr_parts(op.get("path", ""))
        parent = doc
        for k in parts[:-1]:
            parent = parent[int(k)] if isinstance(parent, list) else parent[k]
        last = parts[-1] if parts else None
        kind = op.get("op")
        if kind == "test":
            cur = parent[int(last)] if isinstance(parent, list) else \
                parent.get(last)
            if cur != op.get("value"):
                raise ApiError(422, "Invalid", "the server rejected our "
                               "request due to an error in our request")
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            elif last in parent:
                del parent[last]
            else:
                raise ApiError(422, "Invalid", "unable to remove "
                               "nonexistent key: %s" % last)
        elif kind in ("add", "replace"):
            v = op.get("value")
            if isinstance(parent, list):
                if last == "-":
                    parent.append(v)
                elif kind == "add":
                    parent.insert(int(last), v)
                else:
                    parent[int(last)] = v
            else:
                parent[last] = v
        else:
            raise ApiError(400, "BadRequest", "unsupported op %s" % kind)
    return doc


def decode_secret(obj):
    """stringData is folded into data as the API server does."""
    sd = obj.pop("stringData", None)
    if isinstance(sd, dict):
        data = obj.setdefault("data", {})
        for k, v in sd.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def spec_of(obj):
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "apiVersion", "kind")}


EVENT_LOG_MAX = 1000   # events kept per collection for watches


class Objects(dict):
    """(group, plural, ns, name) -> obj, indexed by collection and
    namespace so that a LIST reads only its own objects (the benchmark
    stores tens of thousands)."""

    def __init__(self):
        super().__init__()
        self.cols = {}   # (group, plural) -> {ns: {name: obj}}

    def __setitem__(self, key, obj):
        super().__setitem__(key, obj)
        self.cols.setdefault((key[0], key[1]), {}).setdefault(
            key[2], {})[key[3]] = obj

    def pop(self, key, *default):
        if key not in self:
            return default[0] if default else None
        obj = super().pop(key)
        names = self.cols[(key[0], key[1])][key[2]]
        names.pop(key[3], None)
        if not names:
            del self.cols[(key[0], key[1])][key[2]]
        return obj

    def scan(self, group, plural, ns):
        """[(key, obj)] of one collection (ns None: every namespace),
        in key order."""
        col = self.cols.get((group, plural), {})
        out = []
        for n in sorted(col) if ns is None else [ns]:
            for name in sorted(col.get(n, {})):
                out.append(((group, plural, n, name), col[n][name]))
        return out

    def in_namespace(self, ns):
        return [(g, p, ns, name) for (g, p), col in self.cols.items()
                for name in col.get(ns, {})]


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # a new event
        self.objs = Objects()   # (group, plural, ns, name) -> obj
        self.rv = 100
        self.delete_delay = 0.0
        self.events = {}  # (group, plural) -> [(rv, type, obj)], rv order
        self.floor = {}   # (group, plural) -> oldest rv a watch may resume
        self.epoch = 0    # bumped to end every open watch

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def record(self, key, etype, obj):
        """Appends a watch event for the object stored under key."""
        with self.lock:
            col = (key[0], key[1])
            log = self.events.setdefault(col, [])
            log.append((int(obj["metadata"]["resourceVersion"]), etype,
                        copy.deepcopy(obj)))
            if len(log) > EVENT_LOG_MAX:
                self.floor[col] = log.pop(0)[0]
            self.changed.notify_all()

    def compact(self):
        """Forgets every event: resuming from an older rv is 410 Gone."""
        with self.lock:
            self.rv += 1
            for col in set(self.events) | {(k[0], k[1]) for k in self.objs}:
                self.floor[col] = self.rv
            self.events.clear()
            self.epoch += 1
            self.changed.notify_all()


class Standin:
    def __init__(self, args):
        self.args = args
        self.store = Store()
        self.log = []
        self.bodies = []
        self.faults = []   # list of dicts consumed one per request
        self.last = time.time()
        self.start = time.time()
        self.lock = threading.Lock()
        self.port = 0
        self.podlogs = {}   # (namespace, pod) -> bytes
        self.skew = 0.0     # seconds added to the Date header


S = None  # the Standin, set in main


def check_immutable(kind, old, new):
    bad = None
    if kind == "Deployment" and old.get("spec", {}).get("selector") != \
            new.get("spec", {}).get("selector"):
        bad = "spec.selector"
    if kind in ("ConfigMap", "Secret") and old.get("immutable") is True:
        if old.get("data") != new.get("data") or \
                old.get("binaryData") != new.get("binaryData"):
            bad = "data"
    if kind == "Job" and old.get("spec", {}).get("template") != \
            new.get("spec", {}).get("template"):
        bad = "spec.template"
    if bad:
        name = new["metadata"]["name"]
        raise ApiError(422, "Invalid", '%s "%s" is invalid: %s: Invalid '
                       'value: field is immutable' % (kind, name, bad),
                       name=name, kind=kind,
                       causes=[{"reason": "FieldValueInvalid",
                                "message": "Invalid value: field is "
                                "immutable", "field": bad}])


def finish_write(k, old, new, manager_entries, dry):
    """Common tail of every write: metadata bookkeeping and storage."""
    group, version, plural, kind, namespaced, has_status, _ = k
    md = new.setdefault("metadata", {})
    if kind == "Secret":
        decode_secret(new)
    if old is not None:
        check_immutable(kind, old, new)
        for f in ("uid", "creationTimestamp"):
            md[f] = old["metadata"][f]
        gen = old["metadata"].get("generation", 1)
        if spec_of(old) != spec_of(new):
            gen += 1
        md["generation"] = gen
        if old == new:
            pass
    else:
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_iso()
        md["generation"] = 1
    md["managedFields"] = manager_entries
    if not manager_entries:
        md.pop("managedFields")
    if kind == "Namespace" and old is None:
        new.setdefault("status", {"phase": "Active"})
    if kind == "CustomResourceDefinition" and old is None:
        new.setdefault("status", {"conditions": [
            {"type": "Established", "status": "True"}]})
    if old is not None and strip_meta(old) == strip_meta(new) and \
            old["metadata"].get("managedFields") == \
            new["metadata"].get("managedFields"):
        md["resourceVersion"] = old["metadata"]["resourceVersion"]
        return new
    if dry:
        md["resourceVersion"] = old["metadata"]["resourceVersion"] \
            if old is not None else ""
        return new
    md["resourceVersion"] = S.store.next_rv()
    return new


def strip_meta(o):
    o = copy.deepcopy(o)
    for f in META_SKIP:
        o.get("metadata", {}).pop(f, None)
    return o


def update_entries(entries, manager, op, apiv, paths, subresource=""):
    """Gives paths to (manager, op); takes them from everyone else."""
    out = []
    mine = None
    for e in entries:
        owned = from_fields(e.get("fieldsV1"))
        if e["manager"] == manager and e["operation"] == op and \
                e.get("subresource", "") == subresource:
            mine = e
            continue
        owned -= paths
        if owned:
            e = dict(e)
            e["fieldsV1"] = to_fields(owned)
            out.append(e)
    if op == "Update" and mine is not None:
        paths = paths | from_fields(mine.get("fieldsV1"))
    if paths:
        e = {"manager": manager, "operation": op, "apiVersion": apiv,
             "time": now_iso(), "fieldsType": "FieldsV1",
             "fieldsV1": to_fields(paths)}
        if subresource:
            e["subresource"] = subresource
        out.append(e)
    return out


def apply_patch(k, ns, name, body, q, sub):
    group, version, plural, kind, namespaced, has_status, _ = k
    manager = q.get("fieldManager")
    if not manager:
        raise ApiError(400, "BadRequest", "PATCH, application/apply-patch+"
                       "yaml requires fieldManager to be set")
    if body.get("apiVersion") != gv_str(group, version) or \
            body.get("kind") != kind:
        raise ApiError(400, "BadRequest", "the API version in the data (%s)"
                       " does not match the expected API version (%s)" %
                       (body.get("apiVersion"), gv_str(group, version)))
    md = body.get("metadata") or {}
    if md.get("name") not in (None, name):
        raise ApiError(400, "BadRequest", "the name of the object (%s) "
                       "does not match the name on the URL (%s)" %
                       (md.get("name"), name))
    force = q.get("force") == "true"
    dry = q.get("dryRun") == "All"
    st = S.store
    with st.lock:
        key = (group, plural, ns, name)
        old = st.objs.get(key)
        if sub == "status":
            if old is None:
                raise not_found(k, name)
            new = copy.deepcopy(old)
            new["status"] = merge_patch(new.get("status"), body.get(
                "status") or {})
            return store_write(k, key, old, new, old["metadata"].get(
                "managedFields", []), dry), 200
        paths = config_leaves(body, has_status)
        entries = copy.deepcopy(old["metadata"].get("managedFields", [])) \
            if old else []
        live = copy.deepcopy(old) if old else {
            "apiVersion": gv_str(group, version), "kind": kind,
            "metadata": {"name": name}}
        if namespaced:
            live["metadata"]["namespace"] = ns
        conflicts = []
        prev_mine = set()
        for e in entries:
            owned = from_fields(e.get("fieldsV1"))
            if e["manager"] == manager and e["operation"] == "Apply":
                prev_mine = owned
                continue
            if e.get("subresource"):
                continue
            for p in sorted(paths & owned):
                if get_path(live, p) != get_path(body, p):
                    conflicts.append((e["manager"], p))
        if conflicts and not force:
            causes = [{"type": "FieldManagerConflict",
                       "message": 'conflict with "%s"' % m,
                       "field": "." + ".".join(p)} for m, p in conflicts]
            if len(conflicts) == 1:
                m, p = conflicts[0]
                msg = 'Apply failed with 1 conflict: conflict with "%s": ' \
                    '.%s' % (m, ".".join(p))
            else:
                msg = "Apply failed with %d conflicts: %s" % (
                    len(conflicts), "\n".join('conflict with "%s": .%s' % (
                        m, ".".join(p)) for m, p in conflicts))
            raise ApiError(409, "Conflict", msg, name=name, kind=plural,
                           causes=causes)
        others = set()
        for e in entries:
            if not (e["manager"] == manager and e["operation"] == "Apply"):
                others |= from_fields(e.get("fieldsV1"))
        if force:
            others -= paths
        for p in prev_mine - paths - others:
            del_path(live, p)
        for p in paths:
            v, _ = get_path(body, p)
            set_path(live, p, v)
        new = live
        entries = update_entries(entries, manager, "Apply",
                                 gv_str(group, version), paths)
        return store_write(k, key, old, new, entries, dry), \
            (201 if old is None else 200)


def check_finalizers(k, old, new):
    """An object being deleted keeps its deletionTimestamp and takes no
    new finalizer (apimachinery ValidateObjectMetaUpdate's text)."""
    omd, nmd = old["metadata"], new.setdefault("metadata", {})
    if not omd.get("deletionTimestamp"):
        return
    nmd["deletionTimestamp"] = omd["deletionTimestamp"]
    nmd["deletionGracePeriodSeconds"] = omd.get(
        "deletionGracePeriodSeconds", 0)
    added = [f for f in nmd.get("finalizers") or []
             if f not in (omd.get("finalizers") or [])]
    if added:
        name = omd["name"]
        why = 'Forbidden: no new finalizers can be added if the object is ' \
            'being deleted, found new finalizers []string{%s}' % \
            ", ".join('"%s"' % f for f in added)
        raise ApiError(422, "Invalid", '%s "%s" is invalid: metadata.'
                       'finalizers: %s' % (k[3], name, why), name=name,
                       kind=k[3], causes=[{"reason": "FieldValueForbidden",
                                           "message": why,
                                           "field": "metadata.finalizers"}])


def store_write(k, key, old, new, entries, dry):
    if old is not None:
        check_finalizers(k, old, new)
    new = finish_write(k, old, new, entries, dry)
    if dry:
        return new
    if old is not None and new["metadata"].get("deletionTimestamp") and \
            not new["metadata"].get("finalizers"):
        # the last finalizer went: the object is deleted now
        S.store.objs[key] = new
        gone(key)
        return new
    S.store.objs[key] = new
    if old is None or old["metadata"]["resourceVersion"] != \
            new["metadata"]["resourceVersion"]:
        S.store.record(key, "ADDED" if old is None else "MODIFIED", new)
    return new


def not_found(k, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (
        k[2] if not k[0] else k[2] + "." + k[0], name), name=name,
        kind=k[2])


def update_write(k, ns, name, new_body, q, sub, create=False):
    """PUT / POST / merge patch / json patch: an Update by fieldManager."""
    group, version, plural, kind, namespaced, has_status, _ = k
    st = S.store
    dry = q.get("dryRun") == "All"
    manager = q.get("fieldManager") or "unknown"
    key = (group, plural, ns, name)
    with st.lock:
        old = st.objs.get(key)
        if create and old is not None:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists' %
                           (plural, name), name=name, kind=plural)
        if not create and old is None:
            raise not_found(k, name)
        if callable(new_body):
            new_body = new_body(copy.deepcopy(old))
        new = copy.deepcopy(new_body)
        new["apiVersion"] = gv_str(group, version)
        new["kind"] = kind
        md = new.setdefault("metadata", {})
        md["name"] = name
        if namespaced:
            md["namespace"] = ns
        rv = md.get("resourceVersion")
        if old is not None and rv and rv != old["metadata"][
                "resourceVersion"]:
            raise ApiError(409, "Conflict", 'Operation cannot be fulfilled '
                           'on %s "%s": the object has been modified; please '
                           'apply your changes to the latest version and try '
                           'again' % (plural, name), name=name, kind=plural)
        if has_status and old is not None:
            if sub == "status":
                st_new = new.get("status")
                new = copy.deepcopy(old)
                new["status"] = st_new
            else:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
        entries = copy.deepcopy(old["metadata"].get("managedFields", [])) \
            if old else []
        if "managedFields" in md and old is not None and \
                md["managedFields"] != old["metadata"].get("managedFields"):
            # explicit managedFields edit; [{}] clears them all
            entries = [e for e in md["managedFields"] if e.get("manager")]
        else:
            changed = set()
            for p in config_leaves(new, has_status and sub != "status"):
                if old is None or get_path(old, p) != get_path(new, p):
                    changed.add(p)
            if sub == "status":
                changed = {p for p in leaves(new.get("status") or {},
                                             ("status",)) if len(p) > 1 and
                           (old is None or get_path(old, p) !=
                            get_path(new, p))}
            if changed:
                entries = update_entries(entries, manager, "Update",
                                         gv_str(group, version), changed,
                                         sub)
        return store_write(k, key, old, new, entries, dry), \
            (201 if create else 200)


def mark_deleting(key):
    """What the API server does to an object that still has finalizers
    (apiserver registry/generic/registry/store.go, markAsDeleting): sets
    deletionTimestamp (once) and deletionGracePeriodSeconds 0, bumps a
    set generation, and keeps the object until its last finalizer goes."""
    st = S.store
    old = st.objs[key]
    md = old["metadata"]
    if md.get("deletionTimestamp"):
        return old
    new = copy.deepcopy(old)
    nmd = new["metadata"]
    nmd["deletionTimestamp"] = now_iso()
    nmd["deletionGracePeriodSeconds"] = 0
    if nmd.get("generation", 0) > 0:
        nmd["generation"] += 1
    nmd["resourceVersion"] = st.next_rv()
    st.objs[key] = new
    st.record(key, "MODIFIED", new)
    return new


def delete_obj(k, ns, name, q):
    st = S.store
    key = (k[0], k[2], ns, name)
    with st.lock:
        old = st.objs.get(key)
        if old is None:
            raise not_found(k, name)
        if q.get("dryRun") == "All":
            return old
        if old["metadata"].get("finalizers"):
            return mark_deleting(key)
        if key[0] == "" and key[1] == "namespaces":
            return delete_namespace(key)
        if st.delete_delay > 0:
            old["metadata"]["deletionTimestamp"] = now_iso()
            threading.Timer(st.delete_delay, lambda: gone(key)).start()
        else:
            gone(key)
    return old


def delete_namespace(key):
    """Its objects go (those with finalizers are marked for deletion);
    the Namespace itself stays Terminating until they are gone."""
    st = S.store
    left = False
    for k2 in st.objs.in_namespace(key[3]):
        if st.objs[k2]["metadata"].get("finalizers"):
            mark_deleting(k2)
            left = True
        else:
            gone(k2)
    if not left:
        o = st.objs[key]
        gone(key)
        return o
    ns = mark_deleting(key)
    ns = copy.deepcopy(ns)
    ns["status"] = {"phase": "Terminating"}
    ns["metadata"]["resourceVersion"] = st.next_rv()
    st.objs[key] = ns
    st.record(key, "MODIFIED", ns)
    return ns


def gone(key):
    with S.store.lock:
        o = S.store.objs.pop(key, None)
        if o is not None:
            o = copy.deepcopy(o)
            o["metadata"]["resourceVersion"] = S.store.next_rv()
            S.store.record(key, "DELETED", o)
        S.store.rv += 1
        # a Terminating Namespace goes with its last object
        nskey = ("", "namespaces", "", key[2])
        if key[2] and nskey in S.store.objs and \
                S.store.objs[nskey]["metadata"].get("deletionTimestamp") \
                and not S.store.objs.in_namespace(key[2]):
            gone(nskey)


def match_labels(obj, sel):
    if not sel:
        return True
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in sel.split(","):
        term = term.strip()
        if "!=" in term:
            a, b = term.split("!=", 1)
            if labels.get(a) == b:
                return False
        elif "=" in term:
            a, b = term.replace("==", "=").split("=", 1)
            if labels.get(a) != b:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def match_fields(obj, sel):
    if not sel:
        return True
    md = obj.get("metadata", {})
    for term in sel.split(","):
        a, _, b = term.partition("=")
        b = b.lstrip("=")
        if a == "metadata.name" and md.get("name") != b:
            return False
        if a == "metadata.namespace" and md.get("namespace") != b:
            return False
    return True


def list_objs(k, ns, q):
    # Paging as the API server does it: `limit` items, an opaque
    # `continue` token while more remain (here: the next offset).
    try:
        off = int(q.get("continue") or 0)
        limit = int(q.get("limit") or 0)
    except ValueError:
        raise ApiError(400, "BadRequest", "invalid continue token")
    st = S.store
    with st.lock:
        objs = [o for key, o in st.objs.scan(k[0], k[2], ns)
                if match_labels(o, q.get("labelSelector")) and
                match_fields(o, q.get("fieldSelector"))]
        rest = objs[off:]
        page = rest[:limit] if limit > 0 else rest
        items = [copy.deepcopy(o) for o in page]   # only the page
        rv = str(st.rv)
    meta = {"resourceVersion": rv}
    if limit > 0 and len(rest) > limit:
        meta["continue"] = str(off + limit)
        meta["remainingItemCount"] = len(rest) - limit
    return {"kind": k[3] + "List", "apiVersion": gv_str(k[0], k[1]),
            "metadata": meta, "items": items}


def since(ts):
    """Age of an RFC 3339 time as kubectl prints it: 5s, 3m, 2h."""
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return "<unknown>"
    d = max(0, int((datetime.datetime.utcnow() - t).total_seconds()))
    if d < 120:
        return "%ds" % d
    if d < 7200:
        return "%dm" % (d // 60)
    return "%dh" % (d // 3600)


def event_table(lst):
    """The server-side Table kubectl asks for with `kubectl get events`
    (the API server's columns; the priority 1 ones show with -o wide)."""
    cols = [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0),
            ("Subobject", 1), ("Source", 1), ("Message", 0),
            ("First Seen", 1), ("Count", 1), ("Name", 1)]
    rows = []
    for e in lst["items"]:
        o = e.get("involvedObject") or {}
        src = (e.get("source") or {}).get("component") or \
            e.get("reportingComponent", "")
        md = {k: v for k, v in e["metadata"].items()
              if k != "managedFields"}
        rows.append({
            "cells": [since(e.get("lastTimestamp")), e.get("type", ""),
                      e.get("reason", ""), "%s/%s" % (
                          o.get("kind", "").lower(), o.get("name", "")),
                      o.get("fieldPath", ""), src, e.get("message", ""),
                      since(e.get("firstTimestamp")), e.get("count", 1),
                      e["metadata"]["name"]],
            "object": {"kind": "PartialObjectMetadata",
                       "apiVersion": "meta.k8s.io/v1", "metadata": md}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": lst["metadata"][
                "resourceVersion"]},
            "columnDefinitions": [{"name": n, "type": "integer" if
                                   n == "Count" else "string",
                                   "format": "name" if n == "Name" else "",
                                   "description": n, "priority": p}
                                  for n, p in cols],
            "rows": rows}


# ---- discovery and OpenAPI ------------------------------------------------

def groups():
    seen = []
    for k in KINDS:
        if k[0] and (k[0], k[1]) not in seen:
            seen.append((k[0], k[1]))
    return seen


def resource_list(g, v):
    res = []
    for k in KINDS:
        if k[0] != g or k[1] != v:
            continue
        verbs = ["create", "delete", "deletecollection", "get", "list",
                 "patch", "update", "watch"]
        r = {"name": k[2], "singularName": k[3].lower(), "namespaced": k[4],
             "kind": k[3], "verbs": verbs}
        if k[6]:
            r["shortNames"] = k[6]
        res.append(r)
        if k[5]:
            res.append({"name": k[2] + "/status", "singularName": "",
                        "namespaced": k[4], "kind": k[3],
                        "verbs": ["get", "patch", "update"]})
    if not res:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": gv_str(g, v), "resources": res}


def openapi_root():
    paths = {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=0"}}
    for g, v in groups():
        paths["apis/%s/%s" % (g, v)] = {
            "serverRelativeURL": "/openapi/v3/apis/%s/%s?hash=0" % (g, v)}
    return {"paths": paths}


def openapi_gv(g, v):
    params = [{"name": n, "in": "query", "schema": {"type": "string"},
               "uniqueItems": True} for n in
              ("dryRun", "fieldManager", "fieldValidation", "force")]
    paths = {}
    for k in KINDS:
        if k[0] != g or k[1] != v:
            continue
        base = "/api/v1" if not g else "/apis/%s/%s" % (g, v)
        p = base + ("/namespaces/{namespace}/%s/{name}" % k[2] if k[4]
                    else "/%s/{name}" % k[2])
        gvk = {"group": g, "version": v, "kind": k[3]}
        paths[p] = {
            "get": {"operationId": "read" + k[3],
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                    "responses": {"200": {"description": "OK"}}},
            "patch": {"operationId": "patch" + k[3],
                      "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk,
                      "parameters": params,
                      "responses": {"200": {"description": "OK"}}},
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes",
                                         "version": "v1.32.4"},
            "paths": paths, "components": {"schemas": {}}}


VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4",
           "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
           "gitTreeState": "clean", "buildDate": "2025-04-22T16:02:27Z",
           "goVersion": "go1.23.6", "compiler": "gc",
           "platform": "linux/amd64"}


def parse_path(path):
    """-> (kind tuple, namespace or None, name or None, subresource)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        g, v, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        g, v, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        ns, rest = rest[1], rest[2:]
    if not rest:
        return None
    k = BY_PLURAL.get((g, v, rest[0]))
    if k is None:
        raise ApiError(404, "NotFound", "the server could not find the "
                       "requested resource")
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else ""
    if sub == "log" and k[3] == "Pod":
        return k, ns, name, sub
    if sub and (sub != "status" or not k[5]):
        raise ApiError(404, "NotFound", "the server could not find the "
                       "requested resource")
    if k[4] and ns is None and name is not None:
        raise ApiError(404, "NotFound", "the server could not find the "
                       "requested resource")
    if not k[4]:
        ns = ""
    return k, ns, name, sub


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-standin"
    wbufsize = -1  # one write per response: no Nagle/delayed-ACK stalls

    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *a):
        pass

    def date_time_string(self, timestamp=None):
        return super().date_time_string(time.time() + S.skew)

    def send_json(self, code, obj, ctype="application/json"):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()
        return code

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self, body, code):
        u = urlsplit(self.path)
        entry = {"method": self.command, "path": u.path, "query": u.query,
                 "content_type": self.headers.get("Content-Type", ""),
                 "status": code,
                 "body_sha256": hashlib.sha256(body).hexdigest()
                 if body else "",
                 "impersonate_user": self.headers.get("Impersonate-User",
                                                      ""),
                 # every Impersonate-* header as received (issue #14: an
                 # injected Impersonate-Group must show), and the request
                 # target exactly as sent (no client-side "../" folding)
                 "impersonate": {k: v for k, v in self.headers.items()
                                 if k.lower().startswith("impersonate-")},
                 "raw_path": self.path,
                 "user_agent": self.headers.get("User-Agent", ""),
                 "time": time.time()}
        with S.lock:
            S.log.append(entry)
            if body and not S.args.no_bodies:
                S.bodies.append(body)

    def handle_any(self):
        S.last = time.time()
        body = self.read_body()
        code = 500
        try:
            code = self.dispatch(body)
        except ApiError as e:
            code = self.send_json(e.code, e.body())
        except (ValueError, KeyError, IndexError, TypeError) as e:
            code = self.send_json(400, ApiError(
                400, "BadRequest", "bad request: %s" % e).body())
        self.record(body, code)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def fault(self):
        with S.lock:
            fs = [f for f in S.faults
                  if f.get("match", "") in self.path]
            if not fs:
                return None
            f = fs[0]
            f["n"] -= 1
            if f["n"] <= 0:
                S.faults.remove(f)
        if f.get("hang"):
            time.sleep(float(f["hang"]))
        code = int(f.get("code", 0))
        if not code:
            return None
        if code == 429:
            self.send_response(429)
            body = json.dumps(ApiError(429, "TooManyRequests",
                                       "too many requests").body()).encode()
            self.send_header("Retry-After", str(f.get("retry_after", 1)))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            return 429
        return self.send_json(code, ApiError(
            code, "InternalError", "injected fault").body())

    def dispatch(self, body):
        if S.args.token:
            auth = self.headers.get("Authorization", "")
            if auth != "Bearer " + S.args.token:
                return self.send_json(401, ApiError(
                    401, "Unauthorized", "Unauthorized").body())
        c = self.fault()
        if c:
            return c
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        path = u.path.rstrip("/") or "/"
        m = self.command
        if m == "POST" and path == ("/apis/authorization.k8s.io/v1/"
                                    "selfsubjectaccessreviews"):
            return self.send_json(201, access_review(
                json.loads(body or b"{}"),
                self.headers.get("Impersonate-User")))
        if m == "GET":
            static = self.discovery(path)
            if static is not None:
                return self.send_json(200, static)
        parsed = parse_path(path)
        if parsed is None:
            raise ApiError(404, "NotFound", "the server could not find the "
                           "requested resource")
        k, ns, name, sub = parsed
        if m == "GET" and sub == "log":
            return self.pod_log(ns, name, q)
        if m == "GET":
            if name is None:
                if q.get("watch") in ("1", "true"):
                    return self.watch(k, ns, q)
                lst = list_objs(k, ns, q)
                if k[3] == "Event" and "as=Table" in \
                        self.headers.get("Accept", ""):
                    return self.send_json(200, event_table(lst))
                return self.send_json(200, lst)
            with S.store.lock:
                o = S.store.objs.get((k[0], k[2], ns, name))
                if o is None:
                    raise not_found(k, name)
                return self.send_json(200, o)
        if m == "DELETE":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "not supported")
            return self.send_json(200, delete_obj(k, ns, name, q))
        doc = json.loads(body or b"{}") if body.strip()[:1] in (
            b"{", b"[") else None
        if doc is None:
            raise ApiError(415, "UnsupportedMediaType", "only JSON bodies "
                           "are supported by the stand-in")
        if m == "POST":
            if name is not None:
                raise ApiError(405, "MethodNotAllowed", "not supported")
            name = (doc.get("metadata") or {}).get("name")
            if not name:
                raise ApiError(422, "Invalid", "name: Required value")
            o, code = update_write(k, ns, name, doc, q, "", create=True)
            return self.send_json(code, o)
        if name is None:
            raise ApiError(405, "MethodNotAllowed", "not supported")
        if m == "PUT":
            o, code = update_write(k, ns, name, doc, q, sub)
            return self.send_json(code, o)
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct == "application/apply-patch+yaml":
            o, code = apply_patch(k, ns, name, doc, q, sub)
            return self.send_json(code, o)
        if ct == "application/json-patch+json":
            o, code = update_write(k, ns, name, lambda old: json_patch(
                old, doc), q, sub)
            return self.send_json(code, o)
        if ct in ("application/merge-patch+json",
                  "application/strategic-merge-patch+json"):
            o, code = update_write(k, ns, name, lambda old: merge_patch(
                old, doc), q, sub)
            return self.send_json(code, o)
        raise ApiError(415, "UnsupportedMediaType", "the body of the request"
                       " was in an unknown format - accepted media types "
                       "include: application/json-patch+json, application/"
                       "merge-patch+json, application/apply-patch+yaml")

    def watch(self, k, ns, q):
        """A watch stream (chunked JSON lines) from the collection's event
        log: synthetic ADDED events first when no resourceVersion is
        given, then every event after it; 410 Gone as an ERROR event when
        that version was compacted away; BOOKMARKs when asked for; ends
        after timeoutSeconds (at most --watch-max seconds)."""
        st = S.store
        col = (k[0], k[2])
        timeout = S.args.watch_max
        if q.get("timeoutSeconds"):
            timeout = min(float(q["timeoutSeconds"]), timeout)
        elif q.get("timeout", "").endswith("s"):   # kubectl: timeout=20s
            timeout = min(float(q["timeout"][:-1]), timeout)
        bookmarks = q.get("allowWatchBookmarks") == "true"
        want = q.get("resourceVersion") or ""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(etype, obj):
            ev = json.dumps({"type": etype, "object": obj}).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))

        def match(o):
            md = o.get("metadata", {})
            return (ns is None or md.get("namespace", "") == ns) and \
                match_labels(o, q.get("labelSelector")) and \
                match_fields(o, q.get("fieldSelector"))

        end = time.time() + timeout
        next_bm = time.time() + S.args.bookmark_interval
        try:
            with st.lock:
                epoch = st.epoch
                if want in ("", "0"):
                    since = st.rv
                    for _, o in list_items(k, ns, q):
                        send("ADDED", o)
                else:
                    since = int(want)
                    if since < st.floor.get(col, 0):
                        send("ERROR", ApiError(
                            410, "Expired", "too old resource version: %d "
                            "(%d)" % (since, st.floor[col])).body())
                        end = 0
            self.wfile.flush()
            while time.time() < end:
                with st.lock:
                    if st.epoch != epoch:
                        break
                    evs = [e for e in st.events.get(col, [])
                           if e[0] > since]
                    if not evs:
                        st.changed.wait(min(0.5, max(0, end - time.time())))
                        evs = [e for e in st.events.get(col, [])
                               if e[0] > since]
                    head = st.rv
                for rv, etype, o in evs:
                    since = rv
                    if match(o):
                        send(etype, o)
                if bookmarks and time.time() >= next_bm:
                    since = max(since, head)
                    send("BOOKMARK", {"kind": k[3], "apiVersion": gv_str(
                        k[0], k[1]), "metadata": {
                            "resourceVersion": str(since)}})
                    next_bm = time.time() + S.args.bookmark_interval
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                OSError):
            self.close_connection = True
        return 200

    def pod_log(self, ns, name, q):
        """A Pod's log (text) as POST /podlog appended it; follow=true
        streams what is appended until --watch-max or the client goes."""
        with S.store.lock:
            if S.store.objs.get(("", "pods", ns, name)) is None:
                raise ApiError(404, "NotFound", 'pods "%s" not found' %
                               name, name=name, kind="pods")
        with S.lock:
            data = S.podlogs.get((ns, name), b"")
        if q.get("tailLines"):
            n = int(q["tailLines"])
            lines = data.splitlines(True)
            data = b"".join(lines[len(lines) - n:] if n > 0 else [])
        if q.get("follow") != "true":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return 200
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = len(S.podlogs.get((ns, name), b""))
        end = time.time() + S.args.watch_max
        try:
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            while time.time() < end:
                time.sleep(0.1)
                with S.lock:
                    more = S.podlogs.get((ns, name), b"")[sent:]
                if more:
                    sent += len(more)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(more), more))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                OSError):
            self.close_connection = True
        return 200

    def discovery(self, path):
        if path == "/version":
            return VERSION
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{
                        "clientCIDR": "0.0.0.0/0",
                        "serverAddress": "127.0.0.1:%d" % S.port}]}
        if path == "/apis":
            gl = []
            for g, v in groups():
                gv = {"groupVersion": gv_str(g, v), "version": v}
                gl.append({"name": g, "versions": [gv],
                           "preferredVersion": gv})
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": gl}
        if path == "/api/v1":
            return resource_list("", "v1")
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "apis":
            rl = resource_list(parts[2], parts[3])
            if rl is None:
                raise ApiError(404, "NotFound", "the server could not find "
                               "the requested resource")
            return rl
        if len(parts) == 3 and parts[1] == "apis":
            for g, v in groups():
                if g == parts[2]:
                    gv = {"groupVersion": gv_str(g, v), "version": v}
                    return {"kind": "APIGroup", "apiVersion": "v1",
                            "name": g, "versions": [gv],
                            "preferredVersion": gv}
        if path == "/openapi/v3":
            return openapi_root()
        if path == "/openapi/v3/api/v1":
            return openapi_gv("", "v1")
        if path.startswith("/openapi/v3/apis/") and len(parts) == 6:
            return openapi_gv(parts[4], parts[5])
        if path in ("/healthz", "/readyz", "/livez"):
            return "ok"
        return None


def rbac_allows(rules, group, resource, sub, verb, name):
    res = resource + ("/" + sub if sub else "")
    for r in rules or []:
        if not (set(r.get("apiGroups") or []) & {group, "*"}):
            continue
        if not (set(r.get("resources") or []) & {res, "*"}):
            continue
        if not (set(r.get("verbs") or []) & {verb, "*"}):
            continue
        names = r.get("resourceNames") or []
        if names and name not in names:
            continue
        return True
    return False


def access_review(review, user):
    """A SelfSubjectAccessReview answered (see the module comment)."""
    ra = (review.get("spec") or {}).get("resourceAttributes") or {}
    out = {"apiVersion": "authorization.k8s.io/v1",
           "kind": "SelfSubjectAccessReview",
           "metadata": {"creationTimestamp": None},
           "spec": review.get("spec") or {}, "status": {"allowed": True}}
    if not user:
        return out
    groups = {"system:authenticated"}
    sa = None
    if user.startswith("system:serviceaccount:"):
        sa = user.split(":")[2:4]
        groups |= {"system:serviceaccounts",
                   "system:serviceaccounts:" + sa[0]}

    def names_us(b):
        for s in b.get("subjects") or []:
            kind = s.get("kind")
            if kind == "ServiceAccount" and sa and [
                    s.get("namespace"), s.get("name")] == sa:
                return True
            if kind == "User" and s.get("name") == user:
                return True
            if kind == "Group" and s.get("name") in groups:
                return True
        return False

    def role_rules(ref, ns):
        kind = "clusterroles" if ref.get("kind") == "ClusterRole" \
            else "roles"
        o = S.store.objs.get(("rbac.authorization.k8s.io", kind,
                              "" if kind == "clusterroles" else ns,
                              ref.get("name")))
        return (o or {}).get("rules") or []

    ns = ra.get("namespace") or ""
    args = (ra.get("group") or "", ra.get("resource") or "",
            ra.get("subresource") or "", ra.get("verb") or "",
            ra.get("name") or "")
    allowed = False
    with S.store.lock:
        for _, b in S.store.objs.scan("rbac.authorization.k8s.io",
                                      "clusterrolebindings", ""):
            if names_us(b) and rbac_allows(role_rules(b.get("roleRef", {}),
                                                      ""), *args):
                allowed = True
        if ns and not allowed:
            for _, b in S.store.objs.scan("rbac.authorization.k8s.io",
                                          "rolebindings", ns):
                if names_us(b) and rbac_allows(role_rules(
                        b.get("roleRef", {}), ns), *args):
                    allowed = True
    out["status"] = {"allowed": allowed}
    if not allowed:
        out["status"]["reason"] = "no RBAC rule allows it"
    return out


def list_items(k, ns, q):
    with S.store.lock:
        return [(key, copy.deepcopy(o))
                for key, o in S.store.objs.scan(k[0], k[2], ns)
                if match_labels(o, q.get("labelSelector")) and
                match_fields(o, q.get("fieldSelector"))]


class CtlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, data, ctype="application/json"):
        if isinstance(data, str):
            data = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlsplit(self.path)
        with S.lock:
            if u.path == "/log":
                return self.reply("".join(json.dumps(e) + "\n"
                                          for e in S.log))
            if u.path == "/bodies":
                return self.reply(b"\n".join(S.bodies),
                                  "application/octet-stream")
        if u.path == "/objects":
            with S.store.lock:
                return self.reply(json.dumps(
                    {"/".join(k): v for k, v in S.store.objs.items()}))
        self.send_error(404)

    def do_POST(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if u.path == "/fault":
            q["n"] = int(q.get("n", 1))
            with S.lock:
                S.faults.append(q)
            return self.reply("{}")
        if u.path == "/reset":
            with S.lock:
                S.log.clear()
                S.bodies.clear()
            return self.reply("{}")
        if u.path == "/compact":
            S.store.compact()
            return self.reply("{}")
        if u.path == "/delete-delay":
            S.store.delete_delay = float(q.get("seconds", 0))
            return self.reply("{}")
        if u.path == "/podlog":
            with S.lock:
                key = (q.get("namespace", ""), q.get("name", ""))
                S.podlogs[key] = S.podlogs.get(key, b"") + body
            return self.reply("{}")
        if u.path == "/clock":
            S.skew = float(q.get("skew", 0))
            return self.reply("{}")
        if u.path == "/version":
            g = q.get("git", "v1.32.4")
            VERSION["gitVersion"] = g
            VERSION["major"], VERSION["minor"] = g.lstrip("v").split(".")[:2]
            return self.reply("{}")
        if u.path == "/quit":
            self.reply("{}")
            threading.Thread(target=lambda: os._exit(0)).start()
            return None
        self.send_error(404)


def make_cert(d):
    key, crt = os.path.join(d, "tls.key"), os.path.join(d, "ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", crt],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return crt, key


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def kubeconfig(port, ca_pem, token, ns):
    ca = base64.b64encode(open(ca_pem, "rb").read()).decode()
    user = "    token: %s\n" % token if token else "    {}\n"
    return ("apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n"
            "  cluster:\n    server: https://127.0.0.1:%d\n"
            "    certificate-authority-data: %s\nusers:\n- name: standin\n"
            "  user:\n%scontexts:\n- name: standin\n  context:\n"
            "    cluster: standin\n    user: standin\n    namespace: %s\n"
            "current-context: standin\n" % (port, ca, user, ns))


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--token", default="standin-token")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--idle-timeout", type=float, default=120)
    ap.add_argument("--max-lifetime", type=float, default=1800)
    ap.add_argument("--watch-max", type=float, default=30,
                    help="longest watch stream, seconds")
    ap.add_argument("--bookmark-interval", type=float, default=5)
    ap.add_argument("--no-bodies", action="store_true",
                    help="keep no request bodies (benchmarks)")
    args = ap.parse_args()
    if args.token == "":
        args.token = None
    S = Standin(args)
    os.makedirs(args.dir, exist_ok=True)
    crt, key = make_cert(args.dir)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    S.port = srv.server_address[1]
    ctl = ThreadingHTTPServer(("127.0.0.1", 0), CtlHandler)
    ctl.daemon_threads = True
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    write_file(os.path.join(args.dir, "kubeconfig"),
               kubeconfig(S.port, crt, args.token, args.namespace))
    write_file(os.path.join(args.dir, "ctl_port"),
               "%d\n" % ctl.server_address[1])
    write_file(os.path.join(args.dir, "port"), "%d\n" % S.port)
    sys.stdout.write("%d\n" % S.port)
    sys.stdout.flush()

    def reaper():
        while True:
            time.sleep(0.5)
            t = time.time()
            if t - S.last > args.idle_timeout or \
                    t - S.start > args.max_lifetime:
                os._exit(0)
    threading.Thread(target=reaper, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
