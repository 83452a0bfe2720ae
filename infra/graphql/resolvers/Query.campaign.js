// Query.campaign (BulkJob table): GetItem by jobId. An audience chunk of the same table (<jobId>#audience#<n>)
// is never a campaign.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const jobId = ctx.args.jobId;
  if (jobId.includes('#')) {
    util.error('jobId: not a campaign id', 'ValidationError');
  }
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ jobId }) };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const row = ctx.result;
  return row && row.name ? row : null;
}
