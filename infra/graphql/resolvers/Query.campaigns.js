// Query.campaigns (BulkJob table): the campaigns in one status, newest first (index byStatus), as
// backend/services/campaigns/jobs.py list_jobs pages them.
import { util } from '@aws-appsync/utils';

const LIMIT_DEFAULT = 25;
const LIMIT_MAX = 100;

export function request(ctx) {
  const limit = ctx.args.limit ?? LIMIT_DEFAULT;
  if (limit < 1 || limit > LIMIT_MAX) {
    util.error(`limit: between 1 and ${LIMIT_MAX}`, 'ValidationError');
  }
  return {
    operation: 'Query',
    index: 'byStatus',
    query: {
      expression: '#status = :status',
      expressionNames: { '#status': 'status' },
      expressionValues: util.dynamodb.toMapValues({ ':status': ctx.args.status }),
    },
    scanIndexForward: false,
    limit,
    nextToken: ctx.args.nextToken,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  return { items: ctx.result.items, nextToken: ctx.result.nextToken ?? null };
}
