/**
 * Reading a cluster file's JSON ({@linkcode parseClusterFile}): every field is checked and
 * every problem named by its field path, so a broken or foreign file is refused in one line.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { formatNodeAddress, parseNodeAddress } from "../core/address.ts";
import { isClusterName } from "../core/cluster_name.ts";
import { CdfsError } from "../core/errors.ts";
import { type LinkSettings, validateLink } from "../emulation/link_spec.ts";
import {
  CLUSTER_FILE_VERSION,
  type ClusterEtcd,
  type ClusterFile,
  type ClusterLauncher,
  type ClusterNameNode,
  type ClusterNetwork,
  type ClusterNetworkNode,
  type ClusterNode,
  type ClusterState,
} from "./cluster_file.ts";

/** The most nodes a local cluster may have (ports and processes of one machine). */
const MAX_NODES = 10_000;
const NODE_ID = /^[A-Za-z0-9._:@-]{1,200}$/;
const START_TIME = /^\d{1,20}$/;

/**
 * Checks parsed JSON and returns it as a cluster file; every problem is named by its field
 * path.
 *
 * @example
 * ```ts
 * import { parseClusterFile } from "./cluster_file_parse.ts";
 * try {
 *   parseClusterFile('{"version": 2}', "c.json");
 * } catch (e) {
 *   console.log((e as Error).message); // "cluster file c.json: version 2 is not supported (this cdfs reads version 1)"
 * }
 * ```
 *
 * @param text The file's text.
 * @param where The file's path, for messages.
 * @returns The cluster file.
 * @throws {CdfsError} USAGE naming the file and the field that is wrong.
 */
export function parseClusterFile(text: string, where: string): ClusterFile {
  const fail = (reason: string): never => {
    throw new CdfsError("USAGE", `cluster file ${where}: ${reason}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const root = record(value, "the file", fail);
  if (root.version !== CLUSTER_FILE_VERSION) {
    fail(
      typeof root.version === "number"
        ? `version ${root.version} is not supported (this cdfs reads version ${CLUSTER_FILE_VERSION})`
        : 'not a cdfs cluster file (no "version": 1)',
    );
  }
  const name = string(root.name, "name", fail);
  if (!isClusterName(name)) fail(`name ${JSON.stringify(name)} is not a valid cluster name`);
  const state = string(root.state, "state", fail);
  if (state !== "starting" && state !== "up" && state !== "stopping") {
    fail(`state ${JSON.stringify(state)} is not one of starting, up, stopping`);
  }
  const created = string(root.created, "created", fail);
  if (Number.isNaN(Date.parse(created))) fail(`created ${JSON.stringify(created)} is not a date`);
  const stateDir = absolutePath(root.stateDir, "stateDir", fail);
  const dataDir = absolutePath(root.dataDir, "dataDir", fail);
  if (typeof root.removeData !== "boolean") fail("removeData must be true or false");
  const nodeArgs = root.nodeArgs ?? [];
  if (!Array.isArray(nodeArgs) || !nodeArgs.every((word) => typeof word === "string")) {
    fail("nodeArgs must be an array of strings");
  }
  const launcherRecord = record(root.launcher, "launcher", fail);
  const launcher: ClusterLauncher = {
    pid: pid(launcherRecord.pid, "launcher.pid", fail) ?? fail("launcher.pid must be a pid"),
    startTime: startTime(launcherRecord.startTime, "launcher.startTime", fail),
    detached: launcherRecord.detached === true,
  };
  if (launcherRecord.detached !== undefined && typeof launcherRecord.detached !== "boolean") {
    fail("launcher.detached must be true or false");
  }
  if (!Array.isArray(root.nodes)) fail("nodes must be an array");
  const list = root.nodes as unknown[];
  if (list.length > MAX_NODES) fail(`${list.length} nodes, the limit is ${MAX_NODES}`);
  const seenAddresses = new Map<string, number>();
  const seenDirs = new Map<string, number>();
  const nodes = list.map((entry, i): ClusterNode => {
    const at = `nodes[${i}]`;
    const node = record(entry, at, fail);
    if (node.index !== i) fail(`${at}.index is ${JSON.stringify(node.index)}, expected ${i}`);
    const addressText = string(node.address, `${at}.address`, fail);
    let address: string;
    try {
      address = formatNodeAddress(parseNodeAddress(addressText, { what: `${at}.address` }));
    } catch (e) {
      return fail((e as Error).message);
    }
    const id = string(node.id, `${at}.id`, fail);
    if (!NODE_ID.test(id)) fail(`${at}.id ${JSON.stringify(id)} is not a valid node id`);
    const nodeDir = absolutePath(node.dataDir, `${at}.dataDir`, fail);
    const log = absolutePath(node.log, `${at}.log`, fail);
    const twice = (kind: string, before: number) =>
      fail(`${at}.${kind} is the same as nodes[${before}]'s: each node needs its own`);
    const addressBefore = seenAddresses.get(address.toLowerCase());
    if (addressBefore !== undefined) twice("address", addressBefore);
    const dirBefore = seenDirs.get(nodeDir);
    if (dirBefore !== undefined) twice("dataDir", dirBefore);
    seenAddresses.set(address.toLowerCase(), i);
    seenDirs.set(nodeDir, i);
    const nodePid = pid(node.pid, `${at}.pid`, fail);
    return {
      index: i,
      address,
      id,
      dataDir: nodeDir,
      log,
      pid: nodePid,
      startTime: nodePid === null ? null : startTime(node.startTime, `${at}.startTime`, fail),
    };
  });
  return {
    version: CLUSTER_FILE_VERSION,
    name,
    state: state as ClusterState,
    created,
    stateDir,
    dataDir,
    removeData: root.removeData as boolean,
    nodeArgs: nodeArgs as string[],
    launcher,
    nodes,
    ...withNetwork(root.network, fail),
    ...withNameNode(root.namenode, fail),
    ...withEtcd(root.etcd, fail),
    ...(root.secretFile === undefined
      ? {}
      : { secretFile: absolutePath(root.secretFile, "secretFile", fail) }),
    ...(root.tlsCaFile === undefined
      ? {}
      : { tlsCaFile: absolutePath(root.tlsCaFile, "tlsCaFile", fail) }),
  };
}

/** The `namenode` field, when present. */
function withNameNode(value: unknown, fail: Fail): { namenode?: ClusterNameNode } {
  if (value === undefined) return {};
  const namenode = record(value, "namenode", fail);
  const text = string(namenode.address, "namenode.address", fail);
  let address: string;
  try {
    address = formatNodeAddress(parseNodeAddress(text, { what: "namenode.address" }));
  } catch (e) {
    return fail((e as Error).message);
  }
  const meta = string(namenode.meta, "namenode.meta", fail);
  if (!/^(sqlite|etcd):./.test(meta)) {
    fail(`namenode.meta ${JSON.stringify(meta)} is not sqlite:PATH or etcd:URL[,URL...]`);
  }
  const namenodePid = namenode.pid === undefined ? null : pid(namenode.pid, "namenode.pid", fail);
  const started = startTime(namenode.startTime, "namenode.startTime", fail);
  return {
    namenode: {
      address,
      meta,
      ...(namenode.log === undefined
        ? {}
        : { log: absolutePath(namenode.log, "namenode.log", fail) }),
      ...(namenodePid === null ? {} : { pid: namenodePid }),
      ...(started === null ? {} : { startTime: started }),
    },
  };
}

/** The `etcd` field, when present. */
function withEtcd(value: unknown, fail: Fail): { etcd?: ClusterEtcd } {
  if (value === undefined) return {};
  const etcd = record(value, "etcd", fail);
  const clientUrl = string(etcd.clientUrl, "etcd.clientUrl", fail);
  if (!/^http:\/\/[^/\s]+:\d+$/.test(clientUrl)) {
    fail(`etcd.clientUrl ${JSON.stringify(clientUrl)} is not http://HOST:PORT`);
  }
  return {
    etcd: {
      clientUrl,
      dataDir: absolutePath(etcd.dataDir, "etcd.dataDir", fail),
      log: absolutePath(etcd.log, "etcd.log", fail),
      pid: pid(etcd.pid, "etcd.pid", fail) ?? fail("etcd.pid must be a pid"),
      startTime: startTime(etcd.startTime, "etcd.startTime", fail),
    },
  };
}

/** The `network` field when it is the emulated network of `--netns`; other kinds (of newer
 * writers) are ignored like any unknown field. */
function withNetwork(value: unknown, fail: Fail): { network?: ClusterNetwork } {
  if (typeof value !== "object" || value === null || !("netns" in value)) return {};
  const network = record(value, "network", fail);
  if (network.netns !== true) fail("network.netns must be true");
  if (!Array.isArray(network.nodes)) fail("network.nodes must be an array");
  return {
    network: {
      netns: true,
      hub: string(network.hub, "network.hub", fail),
      hubAddress: string(network.hubAddress, "network.hubAddress", fail),
      nodes: (network.nodes as unknown[]).map((entry, i): ClusterNetworkNode => {
        const at = `network.nodes[${i}]`;
        const node = record(entry, at, fail);
        if (node.congested !== undefined && typeof node.congested !== "boolean") {
          fail(`${at}.congested must be true or false`);
        }
        return {
          namespace: string(node.namespace, `${at}.namespace`, fail),
          address: string(node.address, `${at}.address`, fail),
          ...(node.link === undefined ? {} : { link: linkSettings(node.link, `${at}.link`, fail) }),
          ...(node.congested === undefined ? {} : { congested: node.congested as boolean }),
        };
      }),
    },
  };
}

function linkSettings(value: unknown, what: string, fail: Fail): LinkSettings {
  const link = record(value, what, fail);
  const number = (field: string) => {
    const v = link[field];
    if (typeof v !== "number") fail(`${what}.${field} must be a number`);
    return v as number;
  };
  const settings: LinkSettings = {
    ...(link.rateBitsPerSecond === undefined
      ? {}
      : { rateBitsPerSecond: number("rateBitsPerSecond") }),
    delayMs: number("delayMs"),
    jitterMs: number("jitterMs"),
  };
  try {
    validateLink(settings, what);
  } catch (e) {
    fail((e as Error).message);
  }
  return settings;
}

type Fail = (reason: string) => never;

function record(value: unknown, what: string, fail: Fail): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, what: string, fail: Fail): string {
  if (typeof value !== "string") fail(`${what} must be a string`);
  return value as string;
}

function absolutePath(value: unknown, what: string, fail: Fail): string {
  const path = string(value, what, fail);
  if (!isAbsolute(path) || path.includes("\0")) fail(`${what} must be an absolute path`);
  return path;
}

function pid(value: unknown, what: string, fail: Fail): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 1) {
    fail(`${what} must be a process id (an integer > 1) or null`);
  }
  return value as number;
}

function startTime(value: unknown, what: string, fail: Fail): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || !START_TIME.test(value)) {
    fail(`${what} must be a decimal string or null`);
  }
  return value as string;
}
