import { readFileSync } from 'node:fs';
import { renderWorkflowDocs, WORKFLOW_DOCS } from '../../scripts/workflow-docs';

describe('docs/workflows.md', () => {
  it('matches the diagrams generated from the ASL files (run `npm run asl` after changing a workflow)', () => {
    expect(readFileSync(WORKFLOW_DOCS, 'utf8')).toBe(renderWorkflowDocs());
  });

  it('draws every state of every workflow', () => {
    const docs = renderWorkflowDocs();
    expect(docs).toContain('state "Validate the request" as s0');
    expect(docs).toContain('state "Keep cloud DaemonSets off edge nodes"');
  });

  it('lists each event a workflow publishes, with the fields of its detail', () => {
    const docs = renderWorkflowDocs();
    expect(docs).toContain(
      '| Publish Edge Node Join Failed | Edge Node Join Failed | `request`, `error`, `cause`, `rollback`, `lock` |',
    );
    expect(docs).toContain(
      '| Publish KubeEdge Uninstall Failed | KubeEdge Uninstall Failed | `request`, `error`, `cause`, `lock` |',
    );
    expect(docs).toContain('| Publish Edge Node Rollback Failed | Edge Node Rollback Failed |');
  });
});
