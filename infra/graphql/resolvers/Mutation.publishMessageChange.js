// Mutation.publishMessageChange (NONE data source): stores nothing; returns the change it is given, so that the
// subscribers of onMessageChanged hear of it. Called by the EventBridge rule only (IAM; see schema.graphql).
export function request(ctx) {
  return { payload: ctx.args.change };
}

export function response(ctx) {
  return ctx.result;
}
