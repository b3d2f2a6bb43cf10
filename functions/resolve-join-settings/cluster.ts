import { readConfigMap } from '../shared/cluster-reads';
import { CLOUDCORE_CONFIGMAP, EDGE_WATCHER_CONFIGMAP, KUBEEDGE_NAMESPACE } from '../shared/domain';
import type { KubeClients } from '../shared/k8s';
import type { JoinSettings, OnboardRequest } from '../shared/schemas';
import type { Settings } from '../shared/settings';
import { CloudcoreConfigError, resolveJoinSettings } from './core';

/**
 * The join settings of a request, read from cloudcore's ConfigMaps and the deployment's settings: what the step
 * "Resolve join settings" returns, and what the manual join command is rendered from (the same code, so the
 * command a person runs joins exactly as the workflow then expects).
 * @throws CloudcoreConfigError when cloudcore's configuration lacks what the join needs
 */
export async function readJoinSettings(
  kube: KubeClients,
  settings: Settings,
  request: Pick<OnboardRequest, 'nodeName' | 'nodeIp' | 'taint' | 'kubeedgeVersion' | 'region' | 'labels'>,
): Promise<JoinSettings> {
  const [cloudcore, edgeWatcher] = await Promise.all([
    readConfigMap(kube, KUBEEDGE_NAMESPACE, CLOUDCORE_CONFIGMAP),
    readConfigMap(kube, KUBEEDGE_NAMESPACE, EDGE_WATCHER_CONFIGMAP),
  ]);
  const cloudcoreYaml = cloudcore?.data?.['cloudcore.yaml'];
  if (!cloudcoreYaml) {
    throw new CloudcoreConfigError(`ConfigMap ${KUBEEDGE_NAMESPACE}/${CLOUDCORE_CONFIGMAP} has no key cloudcore.yaml`);
  }
  const watcher = edgeWatcher?.data;
  return resolveJoinSettings(
    request,
    {
      cloudcoreYaml,
      edgeWatcherConfig: watcher
        ? { region: watcher.region ?? '', version: watcher.version ?? '', uri: watcher.uri }
        : null,
    },
    {
      cloudcorePublicAddress: settings.cloudcorePublicAddress,
      cloudcorePorts: settings.cloudcorePorts,
      downloadMirror: settings.downloadMirror,
      defaultVersion: settings.defaultKubeedgeVersion,
      defaultRegion: settings.defaultRegion,
    },
  );
}
