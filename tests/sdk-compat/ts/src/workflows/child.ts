// Child workflows, as in the samples' child-workflows: a parent starts one
// child per name at once and joins their results.
import { executeChild, startChild } from '@temporalio/workflow';

export async function parentWorkflow(...names: string[]): Promise<string> {
  const responses = await Promise.all(names.map((name) => executeChild(childWorkflow, { args: [name] })));
  // startChild: the handle first, the result later.
  const last = await startChild(childWorkflow, { args: ['last'] });
  responses.push(await last.result());
  return responses.join('\n');
}

export async function childWorkflow(name: string): Promise<string> {
  return `I am a child named ${name}`;
}
