"""The workspace as a VOSpace 2.1 service under ``/vospace``.

- ``/vospace/nodes/{user}/{path}``: GET a node (``detail=min|max|properties``,
  ``limit``, ``uri`` to page through a container's children), PUT a node document to
  create a container or an (empty) data node, DELETE it, POST a node document to set
  properties (Hera's are all read-only). Node URIs are ``vos://{authority}!vospace/{user}/{path}``;
  a user reaches only their own tree, any other answers ``NodeNotFound`` (404).
- ``/vospace/transfers``: asynchronous transfers, a UWS job list (the UWS binding,
  mounted; this module only accepts the POSTed ``vos:transfer`` document). A job's
  result ``transferDetails`` is the negotiated transfer. ``pushToVoSpace`` and
  ``pullFromVoSpace`` give endpoints of the REST API (``/workspace/{path}``: PUT, with
  resumable ``Content-Range`` pieces; GET, with ``Range``); ``pullToVoSpace`` imports
  the URL of the transfer's protocol endpoint, in the job, with the checks of
  :mod:`workspace.importing`; a vos URI as direction moves (or, with ``keepBytes``,
  copies) a node.
- ``/vospace/synctrans``: the same negotiation for push/pullFromVoSpace, answered at
  once; with ``TARGET``, ``DIRECTION``, ``PROTOCOL`` parameters and ``REQUEST=redirect``
  it redirects to the data.
- ``/vospace/protocols``, ``/vospace/views``, ``/vospace/properties``.

Faults are ``text/plain`` bodies starting with the fault's name, as VOSpace 2.1 says.
"""
from __future__ import annotations

import posixpath
from urllib.parse import quote, unquote, urlsplit

from flask import Blueprint, Response, current_app, redirect, request

from accounts import auth
from uws import JobList
from uws.binding import mount

from . import importing
from . import vospace_xml as vx
from .store import Workspace, WorkspaceError

bp = Blueprint("vospace", __name__)

JOBLIST = JobList("vospace-transfers", "workspace.vospace:run_transfer", title="VOSpace transfers")
XML = "text/xml; charset=utf-8"
FAULTS = {400: "InvalidArgument", 401: "PermissionDenied", 403: "PermissionDenied", 404: "NodeNotFound",
          409: "DuplicateNode", 410: "NodeNotFound", 411: "InvalidArgument", 413: "InvalidArgument",
          502: "InternalFault", 507: "QuotaExceeded"}
PROTOCOLS = {"http": (vx.HTTPGET, vx.HTTPPUT), "https": (vx.HTTPSGET, vx.HTTPSPUT)}


def fault(err: vx.VOSpaceError) -> Response:
    headers = auth.challenge_headers() if err.status == 401 else {}
    return Response(f"{err.fault}: {err.message}\n", status=err.status, mimetype="text/plain", headers=headers)


def from_workspace(err: WorkspaceError, fault_name: str | None = None) -> vx.VOSpaceError:
    return vx.VOSpaceError(err.status, fault_name or FAULTS.get(err.status, "InternalFault"), err.message)


@bp.errorhandler(vx.VOSpaceError)
def vospace_error(err):
    return fault(err)


@bp.errorhandler(WorkspaceError)
def workspace_error(err):
    return fault(from_workspace(err))


@bp.errorhandler(auth.AuthError)
def auth_error(err):
    return fault(vx.VOSpaceError(401, "PermissionDenied", str(err)))


# -- URIs ---------------------------------------------------------------------------------------
def authority() -> str:
    configured = current_app.config.get("HERA_VOSPACE_AUTHORITY")
    if configured:
        return configured
    return urlsplit(base_url()).hostname or "localhost"


def base_url() -> str:
    return (current_app.config.get("HERA_BASE_URL") or request.host_url).rstrip("/")


def root_uri(auth_name: str) -> str:
    return f"vos://{auth_name}!vospace"


def node_uri(auth_name: str, owner: str, key: str = "") -> str:
    return f"{root_uri(auth_name)}/{owner}" + (f"/{quote(key)}" if key else "")


def parse_uri(uri: str) -> tuple[str, str]:
    """(owner, workspace path) of a node URI of this service."""
    parts = urlsplit(uri)
    if parts.scheme != "vos" or not parts.netloc:
        raise vx.VOSpaceError(400, "InvalidURI", f"{uri!r} is not a vos:// node URI")
    service = parts.netloc.replace("~", "!").split("!", 1)
    if len(service) != 2 or service[1] != "vospace":
        raise vx.VOSpaceError(404, "NodeNotFound", f"{uri} is not a node of this service")
    path = unquote(parts.path).lstrip("/")
    owner, _, key = path.partition("/")
    return owner, key


def workspace_for(owner: str) -> Workspace:
    """The caller's workspace, if ``owner`` is the caller; anyone else's tree does not exist."""
    user = auth.current_user()
    if user is None:
        raise auth.AuthError("VOSpace needs signing in (HTTP Basic with your user name and token, or a Bearer token)")
    if owner != user.name:
        raise vx.VOSpaceError(404, "NodeNotFound", f"no node {owner}/…")
    return current_app.extensions["workspaces"].for_user(user.name)


# -- nodes ------------------------------------------------------------------------------------------
def _properties(ws: Workspace, entry: dict | None, quota: dict | None) -> list:
    props = []
    if entry is not None:
        props.append((vx.PROP_DATE, entry["modified"], True))
        if entry["type"] == "file":
            props += [(vx.PROP_LENGTH, str(entry["size"]), True), (vx.PROP_SHA256, entry["sha256"], True)]
    if quota is not None:
        props += [(vx.PROP_QUOTA, str(quota["bytes_max"]), True),
                  (vx.PROP_LENGTH, str(quota["bytes_used"]), True),
                  (vx.PROP_AVAILABLE, str(max(quota["bytes_max"] - quota["bytes_used"], 0)), True)]
        if quota["warning"]:
            props.append((vx.PROP_QUOTA_WARNING, quota["warning"], True))
    return props


def build_node(ws: Workspace, key: str, auth_name: str, limit: int | None = None, after: str | None = None) -> vx.Node:
    """The node at ``key`` of ``ws``; a container lists its children (at most ``limit``,
    those after the child URI ``after``). The user's root container carries the quota."""
    uri = node_uri(auth_name, ws.owner, key)
    entry = ws.entry(key) if key else None
    if entry is not None and entry["type"] == "file":
        return vx.Node(uri, "vos:DataNode", _properties(ws, entry, None))
    listing = ws.list(key)
    children = []
    for child in listing["entries"]:
        child_uri = node_uri(auth_name, ws.owner, child["path"])
        if after and child_uri <= after:
            continue
        if child["type"] == "folder":
            children.append(vx.Node(child_uri, "vos:ContainerNode", _properties(ws, child, None), []))
        else:
            children.append(vx.Node(child_uri, "vos:DataNode", _properties(ws, child, None)))
        if limit is not None and len(children) >= limit:
            break
    return vx.Node(uri, "vos:ContainerNode", _properties(ws, entry, listing["quota"] if not key else None), children)


def _xml(body: bytes, status: int = 200, ws: Workspace | None = None) -> Response:
    response = Response(body, status=status, content_type=XML)
    if ws is not None:
        warning = ws.quota_warning()
        if warning:
            response.headers["Warning"] = f'299 hera "{warning}"'
    return response


def _body() -> bytes:
    length = request.content_length
    if length is not None and length > vx.MAX_DOCUMENT:
        raise vx.VOSpaceError(413, "InvalidArgument", f"the document is larger than {vx.MAX_DOCUMENT} bytes")
    return request.get_data(cache=False)


@bp.get("/nodes", defaults={"path": ""})
@bp.get("/nodes/", defaults={"path": ""})
@bp.get("/nodes/<path:path>")
def get_node(path):
    user = auth.current_user()
    if user is None:
        raise auth.AuthError("VOSpace needs signing in")
    auth_name = authority()
    detail = request.args.get("detail", "max")
    if detail not in ("min", "max", "properties"):
        raise vx.VOSpaceError(400, "InvalidArgument", "detail must be min, max or properties")
    limit = request.args.get("limit")
    try:
        limit = int(limit) if limit is not None else None
    except ValueError:
        raise vx.VOSpaceError(400, "InvalidArgument", "limit must be an integer")
    if path.strip("/") == "":
        ws = current_app.extensions["workspaces"].for_user(user.name)
        own = vx.Node(node_uri(auth_name, user.name), "vos:ContainerNode", _properties(ws, None, ws.quota()), [])
        return _xml(vx.node_document(vx.Node(root_uri(auth_name), "vos:ContainerNode", [], [own]), detail))
    owner, _, key = path.partition("/")
    ws = workspace_for(owner)
    try:
        node = build_node(ws, ws.key(key), auth_name, limit, request.args.get("uri"))
    except WorkspaceError as err:
        raise from_workspace(err)
    return _xml(vx.node_document(node, detail), ws=ws)


@bp.put("/nodes/<path:path>")
def create_node(path):
    owner, _, key = path.partition("/")
    ws = workspace_for(owner)
    uri, kind = vx.parse_node(_body())
    uri_owner, uri_key = parse_uri(uri)
    if (uri_owner, uri_key.rstrip("/")) != (owner, key.rstrip("/")):
        raise vx.VOSpaceError(400, "InvalidURI", f"the node's uri {uri} is not the URL it was sent to")
    key = ws.key(key)
    if not key:
        raise vx.VOSpaceError(409, "DuplicateNode", "the user's root container exists")
    parent = posixpath.dirname(key)
    if parent and not ws.is_folder(parent):
        raise vx.VOSpaceError(404, "ContainerNotFound", f"no container {parent}")
    if ws.exists(key):
        raise vx.VOSpaceError(409, "DuplicateNode", f"{key} exists already")
    if kind == "ContainerNode":
        ws.mkdir(key)
    elif kind in ("DataNode", "UnstructuredDataNode", "StructuredDataNode"):
        ws.write(key, b"", size=0)
    else:
        raise vx.VOSpaceError(400, "TypeNotSupported", f"{kind} nodes are not supported (containers and data nodes are)")
    return _xml(vx.node_document(build_node(ws, key, authority())), 201, ws)


@bp.post("/nodes/<path:path>")
def set_node(path):
    owner, _, key = path.partition("/")
    ws = workspace_for(owner)
    root = vx.parse(_body())
    if root.find(f"{{{vx.VOS}}}properties/{{{vx.VOS}}}property") is not None:
        raise vx.VOSpaceError(403, "PermissionDenied", "the properties of Hera's nodes are read-only")
    return _xml(vx.node_document(build_node(ws, ws.key(key), authority())), ws=ws)


@bp.delete("/nodes/<path:path>")
def delete_node(path):
    owner, _, key = path.partition("/")
    ws = workspace_for(owner)
    if not ws.key(key):
        raise vx.VOSpaceError(403, "PermissionDenied", "the user's root container cannot be deleted")
    ws.delete(key)
    return Response(status=204)


# -- service lists ------------------------------------------------------------------------------
@bp.get("/protocols")
def protocols():
    scheme = urlsplit(base_url()).scheme
    return _xml(vx.protocols_document(PROTOCOLS.get(scheme, PROTOCOLS["http"])))


@bp.get("/views")
def views():
    return _xml(vx.views_document([vx.ANY_VIEW, vx.DEFAULT_VIEW]))


@bp.get("/properties")
def properties():
    return _xml(vx.properties_document([vx.PROP_LENGTH, vx.PROP_DATE, vx.PROP_QUOTA, vx.PROP_AVAILABLE,
                                        vx.PROP_SHA256, vx.PROP_QUOTA_WARNING]))


# -- transfers ------------------------------------------------------------------------------------
def negotiate(ws: Workspace, transfer: vx.Transfer, base: str, auth_name: str) -> vx.Transfer:
    """The transfer details of a push or pull transfer (no bytes move here)."""
    owner, key = parse_uri(transfer.target)
    if owner != ws.owner:
        raise vx.VOSpaceError(404, "NodeNotFound", f"no node {transfer.target}")
    key = ws.key(key)
    scheme = urlsplit(base).scheme
    get_uri, put_uri = PROTOCOLS.get(scheme, PROTOCOLS["http"])
    endpoint = f"{base}/workspace/{quote(key)}"
    methods = auth.SECURITY_METHODS
    params = []
    if transfer.direction == "pushToVoSpace":
        if not key or ws.is_folder(key):
            raise vx.VOSpaceError(409, "DuplicateNode", f"{key or 'the root'} is a container; push to a data node")
        offered = put_uri
        length = next((v for u, v in transfer.params if u == vx.PROP_LENGTH), None)
        if length is not None:
            if not length.isdigit():
                raise vx.VOSpaceError(400, "InvalidArgument", f"the {vx.PROP_LENGTH} param must be a byte count")
            quota = ws.quota()
            replaced = ws.stat(key).size if ws.exists(key) else 0
            after = quota["bytes_used"] - replaced + int(length)
            if after > quota["bytes_max"]:
                raise vx.VOSpaceError(507, "QuotaExceeded", f"{length} bytes do not fit: "
                                      f"{quota['bytes_max'] - quota['bytes_used']} of {quota['bytes_max']} are free")
            if quota["bytes_max"] and after / quota["bytes_max"] >= ws.warn_fraction:
                params.append((vx.PROP_QUOTA_WARNING, f"after this transfer the workspace will be "
                                                      f"{after / quota['bytes_max']:.0%} full"))
    elif transfer.direction == "pullFromVoSpace":
        st = ws.stat(key)
        if st is None or st.type != "file":
            raise vx.VOSpaceError(404, "NodeNotFound", f"no data node {transfer.target}")
        offered = get_uri
    else:
        raise vx.VOSpaceError(400, "InvalidArgument", f"direction {transfer.direction!r} is not negotiated here")
    asked = [p.uri for p in transfer.protocols]
    if asked and offered not in asked:
        raise vx.VOSpaceError(400, "ProtocolNotSupported",
                              f"none of {', '.join(asked)} is offered; this service offers {offered}")
    return vx.Transfer(transfer.target, transfer.direction, [vx.Protocol(offered, endpoint, methods)],
                       params=params)


def perform(ws: Workspace, transfer: vx.Transfer, base: str, auth_name: str, config) -> vx.Transfer:
    """Carry out ``transfer`` (in a job): import for pullToVoSpace, move/copy for an
    internal transfer; negotiate the others. Returns the transfer details."""
    if transfer.direction in ("pushToVoSpace", "pullFromVoSpace"):
        return negotiate(ws, transfer, base, auth_name)
    owner, key = parse_uri(transfer.target)
    if owner != ws.owner:
        raise vx.VOSpaceError(404, "NodeNotFound", f"no node {transfer.target}")
    if transfer.direction == "pullToVoSpace":
        sources = [p for p in transfer.protocols if p.endpoint]
        if not sources:
            raise vx.VOSpaceError(400, "InvalidArgument", "pullToVoSpace needs a protocol with an endpoint to fetch")
        failures = []
        for p in sources:
            try:
                entry = importing.import_url(ws, key, p.endpoint, config)
            except WorkspaceError as err:
                if err.status in (403, 400, 507, 413):
                    raise from_workspace(err)
                failures.append(err.message)
                continue
            return vx.Transfer(transfer.target, transfer.direction, [vx.Protocol(p.uri, p.endpoint)],
                               params=[(vx.PROP_LENGTH, str(entry["size"])), (vx.PROP_SHA256, entry["sha256"])])
        raise vx.VOSpaceError(502, "TransferFailed", "; ".join(failures))
    if transfer.direction.startswith("vos:"):
        to_owner, to_key = parse_uri(transfer.direction)
        if to_owner != ws.owner:
            raise vx.VOSpaceError(404, "ContainerNotFound", f"no node {transfer.direction}")
        if transfer.keep_bytes:
            st = ws.stat(key)
            if st is None:
                raise vx.VOSpaceError(404, "NodeNotFound", f"no node {transfer.target}")
            if st.type != "file":
                raise vx.VOSpaceError(400, "InvalidArgument", "copying containers is not supported; move them")
            dest = f"{to_key}/{posixpath.basename(key)}" if ws.is_folder(to_key) else to_key
            if ws.exists(dest):
                raise vx.VOSpaceError(409, "DuplicateNode", f"{dest} exists already")
            ws.store(dest, ws.local_path(key), move=False)
        else:
            ws.move(key, to_key)
        return vx.Transfer(transfer.target, transfer.direction, keep_bytes=bool(transfer.keep_bytes))
    raise vx.VOSpaceError(400, "InvalidArgument", f"direction {transfer.direction!r} is not supported "
                                                  "(pushToVoSpace, pullFromVoSpace, pullToVoSpace, or a node URI)")


def run_transfer(job) -> None:
    """Executor of ``/vospace/transfers`` jobs, in an RQ work horse (``job`` is a
    ``uws.JobContext``: its services give the workspaces and the fetch configuration)."""
    ws = job.services.workspaces.for_user(job.owner)
    transfer = vx.parse_transfer(job.parameters["transfer"].encode())
    try:
        details = perform(ws, transfer, job.parameters["base_url"], job.parameters["authority"], job.services.config)
    except WorkspaceError as err:
        raise RuntimeError(f"{FAULTS.get(err.status, 'InternalFault')}: {err.message}") from None
    except vx.VOSpaceError as err:
        raise RuntimeError(str(err)) from None
    job.add_result("transferDetails", vx.transfer_document(details), "text/xml")


@bp.post("/transfers")
def create_transfer():
    """Accept a ``vos:transfer`` document as a new job of the transfers job list (the UWS
    binding, mounted after this blueprint, serves the job resources)."""
    user = auth.current_user()
    if user is None:
        raise auth.AuthError("VOSpace needs signing in")
    body = _body()
    transfer = vx.parse_transfer(body)
    parse_uri(transfer.target)
    manager = current_app.extensions["uws"]
    job = manager.create(JOBLIST, user.name, {"transfer": body.decode("utf-8"), "base_url": base_url(),
                                              "authority": authority()})
    if (request.args.get("PHASE") or request.args.get("phase") or "").upper() == "RUN":
        manager.run(job)
    return redirect(f"{base_url()}/vospace/transfers/{job.id}", code=303)


@bp.route("/synctrans", methods=["GET", "POST"])
def synctrans():
    user = auth.current_user()
    if user is None:
        raise auth.AuthError("VOSpace needs signing in")
    values = {k.upper(): v for k, v in request.values.items()} if request.mimetype != "text/xml" else {}
    if "TARGET" in values:
        transfer = vx.Transfer(values["TARGET"], values.get("DIRECTION", ""),
                               [vx.Protocol(values["PROTOCOL"])] if values.get("PROTOCOL") else [])
    else:
        transfer = vx.parse_transfer(_body())
    if transfer.direction not in ("pushToVoSpace", "pullFromVoSpace"):
        raise vx.VOSpaceError(400, "InvalidArgument",
                              "synctrans negotiates pushToVoSpace and pullFromVoSpace; other transfers go to /vospace/transfers")
    owner, _ = parse_uri(transfer.target)
    ws = workspace_for(owner)
    details = negotiate(ws, transfer, base_url(), authority())
    if values.get("REQUEST", "").lower() == "redirect":
        return redirect(details.protocols[0].endpoint, code=303)
    return _xml(vx.transfer_document(details), ws=ws)


def init_app(app) -> None:
    app.register_blueprint(bp, url_prefix="/vospace")
    mount(app, JOBLIST, "/vospace/transfers", name="vospace_transfers")
