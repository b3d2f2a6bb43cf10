// Generated from keadm-flags.json by embed-keadm-flags.ts: edit the JSON, then run `npm run embed`.
// Biome may reformat this file; only the values matter. What it holds and why: keadm/step-flags.ts.
import type { KeadmProfile } from '../../kubeedge-schemas';
import type { JoinRelease, ResetRelease } from '../step-flags';

// `keadm join` flag lists, each written once and named after the first release that registers it
const FORK_V1_5_0_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'runtimetype',
  'edgenode-name',
  'edgenode-ip',
  'edgecoreconfigpath',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'quicport',
  'tunnelport',
  'tarballpath',
];
const FORK_V1_6_1_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'runtimetype',
  'edgenode-name',
  'edgenode-ip',
  'region',
  'with-edge-taint',
  'edgecoreconfigpath',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'quicport',
  'tunnelport',
  'tarballpath',
];
const FORK_V1_9_2_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'runtimetype',
  'edgenode-name',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'tarballpath',
  'labels',
  'edgenode-ip',
  'region',
  'with-edge-taint',
  'edgecoreconfigpath',
  'quicport',
  'tunnelport',
];
const UPSTREAM_V1_12_0_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'runtimetype',
  'edgenode-name',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'tarballpath',
  'labels',
  'with-mqtt',
  'image-repository',
];
const UPSTREAM_V1_17_0_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'edgenode-name',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'tarballpath',
  'labels',
  'with-mqtt',
  'image-repository',
  'hub-protocol',
];
const UPSTREAM_V1_20_0_FLAGS = [
  'kubeedge-version',
  'cgroupdriver',
  'certPath',
  'cloudcore-ipport',
  'edgenode-name',
  'remote-runtime-endpoint',
  'token',
  'certport',
  'tarballpath',
  'labels',
  'with-mqtt',
  'image-repository',
  'hub-protocol',
  'set',
  'pre-run',
  'post-run',
];

/** `keadm join` of every supported version, by profile and version. */
export const JOIN_FLAGS: Readonly<Record<KeadmProfile, Readonly<Record<string, JoinRelease>>>> = {
  fork: {
    'v1.5.0': {
      versionFormat: 'no-v',
      flags: FORK_V1_5_0_FLAGS,
      types: {},
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
    'v1.6.0': {
      versionFormat: 'no-v',
      flags: FORK_V1_5_0_FLAGS,
      types: {},
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
    'v1.6.1': {
      versionFormat: 'no-v',
      flags: FORK_V1_6_1_FLAGS,
      types: { 'with-edge-taint': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
    'v1.6.2': {
      versionFormat: 'no-v',
      flags: FORK_V1_6_1_FLAGS,
      types: { 'with-edge-taint': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
    'v1.7.2': {
      versionFormat: 'no-v',
      flags: FORK_V1_6_1_FLAGS,
      types: { 'with-edge-taint': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
    'v1.9.2': {
      versionFormat: 'no-v',
      flags: FORK_V1_9_2_FLAGS,
      types: { labels: 'stringSlice', 'with-edge-taint': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: '',
    },
  },
  upstream: {
    'v1.12.0': {
      versionFormat: 'v-optional',
      flags: UPSTREAM_V1_12_0_FLAGS,
      types: { labels: 'stringSlice', 'with-mqtt': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: 'docker',
    },
    'v1.13.0': {
      versionFormat: 'v-optional',
      flags: UPSTREAM_V1_12_0_FLAGS,
      types: { labels: 'stringSlice', 'with-mqtt': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: 'remote',
    },
    'v1.15.0': {
      versionFormat: 'v-optional',
      flags: UPSTREAM_V1_12_0_FLAGS,
      types: { labels: 'stringSlice', 'with-mqtt': 'bool' },
      required: ['cloudcore-ipport'],
      runtimetypeDefault: 'remote',
    },
    'v1.17.0': {
      versionFormat: 'v-optional',
      flags: UPSTREAM_V1_17_0_FLAGS,
      types: { labels: 'stringSlice', 'with-mqtt': 'bool' },
      required: ['cloudcore-ipport'],
    },
    'v1.20.0': {
      versionFormat: 'v-optional',
      flags: UPSTREAM_V1_20_0_FLAGS,
      types: { labels: 'stringSlice', 'with-mqtt': 'bool', set: 'stringArray' },
      required: ['cloudcore-ipport'],
    },
  },
};

/** `keadm reset` of every release in the table, by profile, in table order. */
export const RESET_FLAGS: Readonly<Record<KeadmProfile, readonly ResetRelease[]>> = {
  fork: [
    {
      ref: 'v1.5.0-kubesphere',
      reset: ['kube-config'],
    },
    {
      ref: 'v1.6.0-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.6.1-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.6.2-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.7.0-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.7.2-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'kubesphere-release-1.8.2',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.9.2-kubesphere',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.9.2',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'kubesphere-release-1.5',
      reset: ['kube-config'],
    },
    {
      ref: 'kubesphere-release-1.6',
      reset: ['kube-config', 'force'],
    },
  ],
  upstream: [
    {
      ref: 'v1.6.2',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.9.2',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.12.0',
      reset: ['kube-config', 'force'],
    },
    {
      ref: 'v1.13.0',
      reset: ['kube-config', 'force', 'runtimetype', 'remote-runtime-endpoint'],
    },
    {
      ref: 'v1.15.0',
      reset: ['kube-config', 'force', 'runtimetype', 'remote-runtime-endpoint'],
    },
    {
      ref: 'v1.17.0',
      reset: ['kube-config', 'force'],
      resetEdge: ['force'],
    },
    {
      ref: 'v1.20.0',
      reset: ['kube-config', 'force', 'remote-runtime-endpoint'],
      resetEdge: ['force', 'remote-runtime-endpoint', 'pre-run', 'post-run'],
    },
  ],
};
