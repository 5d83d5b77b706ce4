//! What a `temporal:workflow-runtime` guest answers, turned into core's
//! commands the way Temporal's own host does (`temporalio-sdk`'s
//! `workflow_future.rs`): per-job results of `activate`, completions of
//! routines polled with `poll-routine`.

use super::super::run::{TaskFailure, command};
use crate::bindings::temporal_runtime::temporal::workflow_runtime::types as wit;
use crate::temporal::proto::workflow_activation::{
    WorkflowActivation, workflow_activation_job::Variant as CoreJob,
};
use crate::temporal::proto::workflow_commands::{
    CancelWorkflowExecution, CompleteWorkflowExecution, ContinueAsNewWorkflowExecution,
    FailWorkflowExecution, QueryResult, QuerySuccess, UpdateResponse, WorkflowCommand,
    query_result, update_response, workflow_command::Variant as Command,
};
use crate::temporal::proto::{Failure, Payload};
use prost::Message;

/// The routine every run has: its workflow function.
pub(crate) const MAIN_ROUTINE_ID: u64 = 0;

/// What a job of an activation expects back from `activate`.
#[derive(Debug)]
pub(super) enum JobContext {
    /// Nothing (a resolution, a timer, the start, ...).
    Passive,
    /// A signal: nothing, or its handler's routine.
    Signal,
    /// An update: its handler's routine (accepted) or a rejection.
    Update { protocol_instance_id: String },
    /// A query: its answer.
    Query { query_id: String },
}

/// Each job's expected answer, and whether routines must be polled after
/// (any job but a query may have unblocked one).
pub(super) fn contexts(act: &WorkflowActivation) -> (Vec<JobContext>, bool) {
    let mut poll = false;
    let contexts = act
        .jobs
        .iter()
        .map(|job| match &job.variant {
            Some(CoreJob::QueryWorkflow(q)) => JobContext::Query {
                query_id: q.query_id.clone(),
            },
            Some(CoreJob::SignalWorkflow(_)) => {
                poll = true;
                JobContext::Signal
            }
            Some(CoreJob::DoUpdate(u)) => {
                poll = true;
                JobContext::Update {
                    protocol_instance_id: u.protocol_instance_id.clone(),
                }
            }
            _ => {
                poll = true;
                JobContext::Passive
            }
        })
        .collect();
    (contexts, poll)
}

/// Turn `activate`'s per-job results into commands (update acceptances and
/// rejections, query answers) and the routines they started.
pub(super) fn job_results(
    contexts: Vec<JobContext>,
    result: wit::ActivationResult,
    commands: &mut Vec<WorkflowCommand>,
    routines: &mut Vec<u64>,
) -> Result<(), TaskFailure> {
    if contexts.len() != result.job_results.len() {
        return Err(TaskFailure(format!(
            "the workflow answered {} job results for {} jobs",
            result.job_results.len(),
            contexts.len()
        )));
    }
    for (context, job_result) in contexts.into_iter().zip(result.job_results) {
        use wit::ActivationJobResult as R;
        match (context, job_result) {
            (JobContext::Passive | JobContext::Signal, R::None) => {}
            (JobContext::Signal, R::StartedRoutine(started)) => match started.kind {
                wit::RoutineKind::Signal(_) => routines.push(started.routine_id),
                other => return Err(unexpected("a signal", &other)),
            },
            (
                JobContext::Update {
                    protocol_instance_id,
                },
                R::StartedRoutine(started),
            ) => match started.kind {
                wit::RoutineKind::Update(update) => {
                    if update.protocol_instance_id != protocol_instance_id {
                        return Err(TaskFailure(format!(
                            "the update routine answers protocol instance `{}`, not `{}`",
                            update.protocol_instance_id, protocol_instance_id
                        )));
                    }
                    commands.push(update_response(
                        protocol_instance_id,
                        update_response::Response::Accepted(()),
                    ));
                    routines.push(started.routine_id);
                }
                other => return Err(unexpected("an update", &other)),
            },
            (
                JobContext::Update {
                    protocol_instance_id,
                },
                R::UpdateRejected(failure),
            ) => commands.push(update_response(
                protocol_instance_id,
                update_response::Response::Rejected(decode(failure)?),
            )),
            (JobContext::Query { query_id }, R::QueryResponse(answer)) => {
                let variant = match answer.response {
                    Ok(payload) => query_result::Variant::Succeeded(QuerySuccess {
                        response: Some(decode::<Payload>(payload)?),
                    }),
                    Err(failure) => query_result::Variant::Failed(decode(failure)?),
                };
                commands.push(command(Command::RespondToQuery(QueryResult {
                    query_id,
                    variant: Some(variant),
                })));
            }
            (context, other) => {
                return Err(TaskFailure(format!(
                    "the workflow answered {other:?} to job {context:?}"
                )));
            }
        }
    }
    Ok(())
}

fn unexpected(job: &str, kind: &wit::RoutineKind) -> TaskFailure {
    TaskFailure(format!("{job} started a routine of kind {kind:?}"))
}

/// How a signal or update routine ended: an update's response, or nothing.
pub(super) fn handler_completion(
    completion: wit::RoutineCompletion,
) -> Result<Option<WorkflowCommand>, TaskFailure> {
    match completion {
        wit::RoutineCompletion::Signal(wit::SignalRoutineCompletion::Succeeded) => Ok(None),
        wit::RoutineCompletion::Signal(wit::SignalRoutineCompletion::Failed(failure)) => {
            Err(failed_task("a signal handler failed", failure))
        }
        wit::RoutineCompletion::Update(wit::UpdateRoutineCompletion::Completed(done)) => {
            Ok(Some(update_response(
                done.protocol_instance_id,
                update_response::Response::Completed(decode(done.value)?),
            )))
        }
        wit::RoutineCompletion::Update(wit::UpdateRoutineCompletion::Rejected(rejected)) => {
            Ok(Some(update_response(
                rejected.protocol_instance_id,
                update_response::Response::Rejected(decode(rejected.failure)?),
            )))
        }
        wit::RoutineCompletion::Main(_) => Err(TaskFailure(
            "a signal or update routine returned a main routine's completion".into(),
        )),
    }
}

/// How the run ends, as core's closing command.
pub(super) fn terminal(outcome: wit::TerminalOutcome) -> Result<WorkflowCommand, TaskFailure> {
    let variant = match outcome {
        wit::TerminalOutcome::Completed(result) => {
            Command::CompleteWorkflowExecution(CompleteWorkflowExecution {
                result: Some(decode(result)?),
            })
        }
        wit::TerminalOutcome::Failed(failure) => {
            Command::FailWorkflowExecution(FailWorkflowExecution {
                failure: Some(decode(failure)?),
            })
        }
        wit::TerminalOutcome::Cancelled(details) => {
            Command::CancelWorkflowExecution(CancelWorkflowExecution {
                details: details.map(decode).transpose()?,
            })
        }
        wit::TerminalOutcome::ContinueAsNew(request) => Command::ContinueAsNewWorkflowExecution(
            decode::<ContinueAsNewWorkflowExecution>(request)?,
        ),
    };
    Ok(command(variant))
}

/// A workflow task the guest failed itself (`task-failed`, or a failure
/// returned by `activate` / `poll-routine`). Its forced cause (e.g.
/// nondeterminism) is named in the message: weft's task failures carry
/// no cause.
pub(super) fn failed_task(what: &str, failure: Vec<u8>) -> TaskFailure {
    let message = match Failure::decode(failure.as_slice()) {
        Ok(f) => f.message,
        Err(e) => format!("(a failure that does not decode: {e})"),
    };
    TaskFailure(format!("{what}: {message}"))
}

fn update_response(
    protocol_instance_id: String,
    response: update_response::Response,
) -> WorkflowCommand {
    command(Command::UpdateResponse(UpdateResponse {
        protocol_instance_id,
        response: Some(response),
    }))
}

/// A protobuf the guest encoded (the world's `list<u8>` fields).
fn decode<M: Message + prost::Name + Default>(bytes: Vec<u8>) -> Result<M, TaskFailure> {
    M::decode(bytes.as_slice()).map_err(|e| {
        TaskFailure(format!(
            "the workflow sent bytes that are not a {} ({e})",
            M::full_name()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(data: &str) -> Payload {
        Payload {
            data: data.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    fn update_job(id: &str) -> JobContext {
        JobContext::Update {
            protocol_instance_id: id.into(),
        }
    }

    #[test]
    fn job_results_answer_updates_and_queries_and_keep_started_routines() {
        let result = wit::ActivationResult {
            job_results: vec![
                wit::ActivationJobResult::None,
                wit::ActivationJobResult::StartedRoutine(wit::StartedRoutine {
                    routine_id: 7,
                    kind: wit::RoutineKind::Update(wit::UpdateRoutineKind {
                        name: "set".into(),
                        update_id: "u1".into(),
                        protocol_instance_id: "p1".into(),
                    }),
                }),
                wit::ActivationJobResult::UpdateRejected(
                    Failure {
                        message: "no".into(),
                        ..Default::default()
                    }
                    .encode_to_vec(),
                ),
                wit::ActivationJobResult::QueryResponse(wit::QueryResponse {
                    response: Ok(payload("3").encode_to_vec()),
                }),
            ],
        };
        let contexts = vec![
            JobContext::Passive,
            update_job("p1"),
            update_job("p2"),
            JobContext::Query {
                query_id: "q1".into(),
            },
        ];
        let (mut commands, mut routines) = (Vec::new(), Vec::new());
        job_results(contexts, result, &mut commands, &mut routines).expect("valid results");
        assert_eq!(routines, [7]);
        let variants: Vec<_> = commands.into_iter().filter_map(|c| c.variant).collect();
        assert!(matches!(
            &variants[0],
            Command::UpdateResponse(UpdateResponse { protocol_instance_id, response: Some(update_response::Response::Accepted(())) })
                if protocol_instance_id == "p1"
        ));
        assert!(matches!(
            &variants[1],
            Command::UpdateResponse(UpdateResponse { protocol_instance_id, response: Some(update_response::Response::Rejected(f)) })
                if protocol_instance_id == "p2" && f.message == "no"
        ));
        assert!(matches!(
            &variants[2],
            Command::RespondToQuery(QueryResult { query_id, variant: Some(query_result::Variant::Succeeded(QuerySuccess { response: Some(p) })) })
                if query_id == "q1" && p.data == b"3"
        ));
    }

    #[test]
    fn job_results_out_of_step_with_the_jobs_fail_the_task() {
        let none = || wit::ActivationResult {
            job_results: vec![wit::ActivationJobResult::None],
        };
        let e = job_results(vec![], none(), &mut Vec::new(), &mut Vec::new()).expect_err("refused");
        assert!(e.0.contains("1 job results for 0 jobs"), "{e}");
        let query = vec![JobContext::Query {
            query_id: "q".into(),
        }];
        let e = job_results(query, none(), &mut Vec::new(), &mut Vec::new()).expect_err("refused");
        assert!(
            e.0.contains("answered ActivationJobResult::None to job Query"),
            "{e}"
        );
        let signal_started_update = wit::ActivationResult {
            job_results: vec![wit::ActivationJobResult::StartedRoutine(
                wit::StartedRoutine {
                    routine_id: 1,
                    kind: wit::RoutineKind::Main,
                },
            )],
        };
        let e = job_results(
            vec![JobContext::Signal],
            signal_started_update,
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .expect_err("refused");
        assert!(
            e.0.contains("a signal started a routine of kind RoutineKind::Main"),
            "{e}"
        );
    }

    #[test]
    fn terminal_outcomes_become_closing_commands_and_bad_bytes_fail_the_task() {
        let done = terminal(wit::TerminalOutcome::Completed(
            payload("1").encode_to_vec(),
        ))
        .expect("a payload");
        assert!(matches!(
            done.variant,
            Some(Command::CompleteWorkflowExecution(CompleteWorkflowExecution { result: Some(p) })) if p.data == b"1"
        ));
        let cancelled = terminal(wit::TerminalOutcome::Cancelled(None)).expect("no details");
        assert!(matches!(
            cancelled.variant,
            Some(Command::CancelWorkflowExecution(CancelWorkflowExecution {
                details: None
            }))
        ));
        let e = terminal(wit::TerminalOutcome::Failed(vec![0xff, 0xff])).expect_err("refused");
        assert!(e.0.contains("not a temporal.api.failure.v1.Failure"), "{e}");
    }
}
