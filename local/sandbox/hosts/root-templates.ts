import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FALLBACK_TOOLS_DIR } from '../edge/provision';
import { ensureUnameStandIn, identityFiles, installAwsStandIn, seedHostRoot } from './host-root';
import { hasNamespaces, type IsolationMode } from './isolation-mode';
import { type HostProvisioner, type HostSpec, traitsOf } from './traits';

const execFileAsync = promisify(execFile);

/** Fills a fresh host root for a host isolated with `mode`: seeded /etc, the edge stand-ins, `uname` and `aws`. */
export async function provisionRoot(
  root: string,
  spec: HostSpec,
  provisioner: HostProvisioner,
  mode: IsolationMode,
): Promise<void> {
  await seedHostRoot(root, spec, { overlaidEtc: hasNamespaces(spec, mode) });
  await provisioner.provisionHost(root, traitsOf(spec));
  ensureUnameStandIn(root, spec.arch);
  installAwsStandIn(root);
}

/**
 * Hosts alike get the same root but for the files that name them: everything but the name, instance id, address
 * and tags (which no file of a root holds) is the key.
 */
export function templateKey(spec: HostSpec): string {
  const { name: _name, instanceId: _instanceId, ipAddress: _ipAddress, tags: _tags, ...alike } = spec;
  return JSON.stringify(sortedKeys(alike));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortedKeys(v)]),
  );
}

/** The stand-ins' record of the host (`/var/lib/sandbox/traits.env`): its id and name lines. */
const TRAITS_FILE = 'var/lib/sandbox/traits.env';

/** Rewrites the files of a copied root that name the host it was copied from. */
export async function writeIdentity(root: string, spec: HostSpec): Promise<void> {
  for (const [name, text] of Object.entries(identityFiles(spec))) await writeFile(path.join(root, 'etc', name), text);
  const traits = await readFile(path.join(root, TRAITS_FILE), 'utf8');
  await writeFile(
    path.join(root, TRAITS_FILE),
    traits
      .replace(/^INSTANCE_ID=.*$/m, `INSTANCE_ID=${spec.instanceId}`)
      .replace(/^HOSTNAME=.*$/m, `HOSTNAME=${spec.name}`),
  );
}

/**
 * Host roots for a fleet: the first host of each kind is provisioned into `<dir>/<n>/root` as the template, and
 * every host of that kind (the first too) gets a copy (`cp -a`: one process, owners, modes, symlinks, whiteouts
 * and the containerd socket file kept) with its identity rewritten. Provisioning writes a few hundred files and a
 * couple of thousand symlinks per host; a copy is a fraction of that. The copies leave out the portable mode's
 * PATH of symlinks (`FALLBACK_TOOLS_DIR`), which hosts with namespaces never read.
 */
export class RootTemplates {
  private readonly templates = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly provisioner: HostProvisioner,
    private readonly mode: IsolationMode,
  ) {}

  /** Fills `root` (which must not exist yet) for `spec`. */
  async fill(root: string, spec: HostSpec): Promise<void> {
    const key = templateKey(spec);
    let template = this.templates.get(key);
    if (!template) {
      template = this.build(spec, this.templates.size);
      this.templates.set(key, template);
    }
    await execFileAsync('cp', ['-a', await template, root]);
    await writeIdentity(root, spec);
  }

  private async build(spec: HostSpec, index: number): Promise<string> {
    const root = path.join(this.dir, String(index), 'root');
    await rm(path.dirname(root), { recursive: true, force: true });
    await provisionRoot(root, spec, this.provisioner, this.mode);
    await rm(path.join(root, FALLBACK_TOOLS_DIR), { recursive: true, force: true });
    return root;
  }
}
