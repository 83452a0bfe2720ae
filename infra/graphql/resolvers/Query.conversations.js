// Query.conversations (Contact table): the team inbox's conversations in one status, most recent activity first
// (index byConversationStatus, all attributes projected), leaving out deleted contacts.
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
    index: 'byConversationStatus',
    query: {
      expression: '#status = :status',
      expressionNames: { '#status': 'conversationStatus' },
      expressionValues: util.dynamodb.toMapValues({ ':status': ctx.args.status }),
    },
    filter: {
      expression: 'attribute_not_exists(#deleted)',
      expressionNames: { '#deleted': 'deletedAt' },
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
