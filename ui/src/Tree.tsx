// The resource tree as a graph: the Application, what it applied, and what Kubernetes made from
// those (ReplicaSets, Pods, ...), one column per level, edges from parent to child. SVG text is
// set through React, so names from Git or the cluster are never markup.
import type { TreeNode, TreeView } from './api.ts';

const COL = 250;
const ROW = 58;
const W = 210;
const H = 44;

interface Placed {
  node: TreeNode;
  depth: number;
  row: number;
  parent?: Placed;
}

/** Leaves take consecutive rows; a parent sits at the middle of its children. */
function layout(root: TreeNode): Placed[] {
  const out: Placed[] = [];
  let next = 0;
  const place = (node: TreeNode, depth: number, parent?: Placed): Placed => {
    const me: Placed = { node, depth, row: 0, ...(parent ? { parent } : {}) };
    out.push(me);
    if (node.children.length === 0) me.row = next++;
    else {
      const kids = node.children.map((c) => place(c, depth + 1, me));
      me.row = (kids[0]!.row + kids[kids.length - 1]!.row) / 2;
    }
    return me;
  };
  place(root, 0);
  return out;
}

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function Tree({ view }: { view: TreeView }) {
  const root: TreeNode = {
    kind: 'Application',
    name: view.application,
    namespace: view.namespace,
    sync: view.sync,
    health: view.health,
    children: view.resources,
  };
  const placed = layout(root);
  const rows = Math.max(1, ...placed.map((p) => p.row + 1));
  const depth = Math.max(...placed.map((p) => p.depth)) + 1;
  const x = (p: Placed) => 10 + p.depth * COL;
  const y = (p: Placed) => 10 + p.row * ROW;
  return (
    <div className="tree-scroll">
      <svg
        className="tree"
        data-testid="tree"
        width={depth * COL}
        height={rows * ROW + 10}
        viewBox={`0 0 ${depth * COL} ${rows * ROW + 10}`}
        role="img"
        aria-label={`Resource tree of ${view.application}`}
      >
        {placed
          .filter((p) => p.parent)
          .map((p, i) => (
            <path
              key={`e${i}`}
              className="edge"
              d={`M ${x(p.parent!) + W} ${y(p.parent!) + H / 2} C ${x(p) - 20} ${y(p.parent!) + H / 2}, ${x(p.parent!) + W + 20} ${y(p) + H / 2}, ${x(p)} ${y(p) + H / 2}`}
            />
          ))}
        {placed.map((p, i) => (
          <g
            key={`n${i}`}
            className={`node health-${p.node.health}`}
            transform={`translate(${x(p)}, ${y(p)})`}
            data-kind={p.node.kind}
            data-name={p.node.name}
            data-health={p.node.health}
          >
            <title>
              {`${p.node.kind} ${p.node.namespace ? `${p.node.namespace}/` : ''}${p.node.name}\nhealth: ${p.node.health}${p.node.sync ? `\nsync: ${p.node.sync}` : ''}${p.node.message ? `\n${p.node.message}` : ''}`}
            </title>
            <rect width={W} height={H} rx={6} />
            <rect className="stripe" width={6} height={H} rx={3} />
            <text x={14} y={17} className="kind">
              {p.node.kind}
            </text>
            <text x={14} y={35} className="name">
              {short(p.node.name, 26)}
            </text>
            {p.node.sync && (
              <text x={W - 8} y={17} textAnchor="end" className={`sync sync-${p.node.sync}`}>
                {p.node.sync}
              </text>
            )}
          </g>
        ))}
      </svg>
    </div>
  );
}
