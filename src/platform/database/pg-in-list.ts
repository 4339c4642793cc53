/**
 * PostgreSQL: `column in ($1, $2, ..., $n)` is sent as `column = any($1)`, the list bound as one array.
 *
 * Why: every statement runs prepared (./pg-prepared.ts), and a list of n placeholders makes a new
 * statement text for every n. The ingest of a group of inbound messages asks a dozen lookups by lists
 * whose length is the group's, so nearly every one was a statement the connection had not seen: parsed,
 * planned with a custom plan and kept (pushing others out of the bounded cache). Logged on the inbound
 * bench: 1.5 ms of parsing and 3.7 ms of binding per group, about a quarter of PostgreSQL's time for it. With
 * an array the text is the same for every length. Same rows: `x = any(array[...])` is how PostgreSQL reads
 * an IN list of values itself, and the array's element type is the column's, as each value's was.
 *
 * Only lists of two or more plain strings or plain numbers are rewritten (not subqueries, tuples, or
 * lists mixing types, nulls or other values), and only `in` (a `not in` stays as it is).
 */
import {
  BinaryOperationNode,
  OperationNodeTransformer,
  OperatorNode,
  PrimitiveValueListNode,
  RawNode,
  ValueNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

function arrayable(values: ReadonlyArray<unknown>): boolean {
  if (values.length < 2) return false;
  const kind = typeof values[0];
  if (kind !== 'string' && kind !== 'number') return false;
  for (const v of values) if (typeof v !== kind || (kind === 'number' && !Number.isFinite(v))) return false;
  return true;
}

class InListAsArray extends OperationNodeTransformer {
  protected override transformBinaryOperation(node: BinaryOperationNode): BinaryOperationNode {
    const n = super.transformBinaryOperation(node);
    if (OperatorNode.is(n.operator) && n.operator.operator === 'in' && PrimitiveValueListNode.is(n.rightOperand) && arrayable(n.rightOperand.values)) {
      return BinaryOperationNode.create(n.leftOperand, OperatorNode.create('='), RawNode.create(['any(', ')'], [ValueNode.create([...n.rightOperand.values])]));
    }
    return n;
  }
}

export class PostgresInListAsArray implements KyselyPlugin {
  readonly #transformer = new InListAsArray();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
