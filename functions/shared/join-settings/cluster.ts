import { readConfigMap } from '../cluster-reads';
import { CLOUDCORE_CONFIGMAP, EDGE_WATCHER_CONFIGMAP, KUBEEDGE_NAMESPACE } from '../domain';
import type { KubeClients } from '../k8s';
import type { EdgeWatcherConfig, OnboardRequest } from '../schemas';
import type { Settings } from '../settings';
import { CloudcoreConfigError, resolveJoinSettings } from './core';
import type { JoinSettings } from './schema';

type JoinRequest = Pick<OnboardRequest, 'nodeName' | 'nodeIp' | 'taint' | 'kubeedgeVersion' | 'region' | 'labels'>;

/**
 * The join settings of a request, read from cloudcore's ConfigMaps and the deployment's settings: what the manual
 * join command is rendered from (the same code as validation resolves them with, so the command a person runs joins
 * exactly as the workflow then expects).
 * @throws CloudcoreConfigError when cloudcore's configuration lacks what the join needs
 */
export async function readJoinSettings(
  kube: KubeClients,
  settings: Settings,
  request: JoinRequest,
): Promise<JoinSettings> {
  const [cloudcore, edgeWatcher] = await Promise.all([
    readConfigMap(kube, KUBEEDGE_NAMESPACE, CLOUDCORE_CONFIGMAP),
    readConfigMap(kube, KUBEEDGE_NAMESPACE, EDGE_WATCHER_CONFIGMAP),
  ]);
  const watcher = edgeWatcher?.data;
  return joinSettingsOf(settings, request, {
    cloudcoreYaml: cloudcore?.data?.['cloudcore.yaml'],
    edgeWatcherConfig: watcher
      ? { region: watcher.region ?? '', version: watcher.version ?? '', uri: watcher.uri }
      : null,
  });
}

/**
 * The join settings of a request from cloudcore's ConfigMaps as already read (validation reads them anyway, and
 * resolves the settings from them so that the workflow does not read them again).
 * @throws CloudcoreConfigError when cloudcore's configuration lacks what the join needs
 */
export function joinSettingsOf(
  settings: Settings,
  request: JoinRequest,
  read: { readonly cloudcoreYaml?: string; readonly edgeWatcherConfig?: EdgeWatcherConfig | null },
): JoinSettings {
  if (!read.cloudcoreYaml) {
    throw new CloudcoreConfigError(`ConfigMap ${KUBEEDGE_NAMESPACE}/${CLOUDCORE_CONFIGMAP} has no key cloudcore.yaml`);
  }
  return resolveJoinSettings(
    request,
    { cloudcoreYaml: read.cloudcoreYaml, edgeWatcherConfig: read.edgeWatcherConfig ?? null },
    {
      cloudcorePublicAddress: settings.cloudcorePublicAddress,
      cloudcorePorts: settings.cloudcorePorts,
      downloadMirror: settings.downloadMirror,
      defaultVersion: settings.defaultKubeedgeVersion,
      defaultRegion: settings.defaultRegion,
    },
  );
}
