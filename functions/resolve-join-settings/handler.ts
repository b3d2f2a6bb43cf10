import { z } from 'zod';
import { readConfigMap } from '../shared/cluster-reads';
import { CLOUDCORE_CONFIGMAP, EDGE_WATCHER_CONFIGMAP, KUBEEDGE_NAMESPACE } from '../shared/domain';
import { kubeClients } from '../shared/k8s';
import { OnboardRequest } from '../shared/schemas';
import { readSettings } from '../shared/settings';
import { defineStep } from '../shared/step';
import { CloudcoreConfigError, resolveJoinSettings } from './core';

const Input = z.object({ operationId: z.string().min(1), request: OnboardRequest });

export const handler = defineStep('ResolveJoinSettings', Input, async ({ request }) => {
  const settings = readSettings();
  const kube = await kubeClients(settings);
  const [cloudcore, edgeWatcher] = await Promise.all([
    readConfigMap(kube, KUBEEDGE_NAMESPACE, CLOUDCORE_CONFIGMAP),
    readConfigMap(kube, KUBEEDGE_NAMESPACE, EDGE_WATCHER_CONFIGMAP),
  ]);
  const cloudcoreYaml = cloudcore?.data?.['cloudcore.yaml'];
  if (!cloudcoreYaml) {
    throw new CloudcoreConfigError(`ConfigMap ${KUBEEDGE_NAMESPACE}/${CLOUDCORE_CONFIGMAP} has no key cloudcore.yaml`);
  }
  const watcher = edgeWatcher?.data;
  return {
    settings: resolveJoinSettings(
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
    ),
  };
});
