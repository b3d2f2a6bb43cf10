import { type FindingCollector, finding, type Page, pages } from '../drift-findings/findings';

/** An edge node as the host check reads it: its name, and the SSM instance edgekeeper recorded when it joined it. */
export interface ManagedNode {
  readonly name: string;
  readonly instanceId: string;
}

/** The reads of the host check: managed edge nodes from the cluster, managed instances from SSM. */
export interface HostCheckPort {
  /** one page of the edge nodes edgekeeper manages (those with an instance id recorded) */
  listManagedNodes(continueToken?: string): Promise<Page<ManagedNode>>;
  /** PingStatus of each id SSM knows; an id missing from the answer is deregistered */
  describeInstances(instanceIds: readonly string[]): Promise<ReadonlyMap<string, { pingStatus: string }>>;
  /** one page of the managed instances carrying the edge-host tag */
  listTaggedInstances(nextToken?: string): Promise<{ instanceIds: readonly string[]; nextToken?: string }>;
}

/**
 * Compares the managed nodes with SSM's inventory, both ways: a node whose instance is deregistered (`host-gone`) or
 * not Online (`host-offline`), and an instance tagged as an edge host that backs no node (`host-without-node`). The
 * nodes are read page by page; only their instance ids are kept for the second pass (about 20 bytes a node).
 */
export async function checkHosts(port: HostCheckPort, edgeHostTag: string, collector: FindingCollector): Promise<void> {
  const backed = new Set<string>();
  for await (const page of pages((token) => port.listManagedNodes(token))) {
    const inventory = await port.describeInstances(page.map((node) => node.instanceId));
    for (const node of page) {
      backed.add(node.instanceId);
      const instance = inventory.get(node.instanceId);
      if (!instance) {
        await collector.add(
          finding(
            'host-gone',
            `node/${node.name}`,
            `its SSM managed instance ${node.instanceId} is not registered`,
            'the managed instance that joined it, registered with SSM; or remove the node (edgekeeper remove --force)',
          ),
        );
      } else if (instance.pingStatus !== 'Online') {
        await collector.add(
          finding(
            'host-offline',
            `node/${node.name}`,
            `its SSM managed instance ${node.instanceId} is ${instance.pingStatus}`,
            'PingStatus Online: the host up and its SSM agent running',
          ),
        );
      }
    }
  }
  let token: string | undefined;
  do {
    const page = await port.listTaggedInstances(token);
    for (const instanceId of page.instanceIds) {
      if (backed.has(instanceId)) continue;
      await collector.add(
        finding(
          'host-without-node',
          `instance/${instanceId}`,
          `tagged ${edgeHostTag} but no edge node records it`,
          'a node joined from it (edgekeeper onboard), or the tag removed',
        ),
      );
    }
    token = page.nextToken;
  } while (token);
}
