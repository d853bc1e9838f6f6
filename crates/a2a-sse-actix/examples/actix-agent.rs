//! A whole A2A agent on actix-web, in one file: an executor, its card, and every route (the
//! A2A bindings and the native event stream) mounted by `routes`.
//!
//! ```text
//! cargo run -p a2a-sse-actix --example actix-agent
//! curl -s localhost:3000/a2a/message:send -H 'A2A-Version: 1.0' -H 'content-type: application/json' \
//!   -d '{"message":{"messageId":"m-1","role":"ROLE_USER","parts":[{"text":"hello"}]}}'
//! ```

use a2a_sse_actix::a2a::{
    A2aConfig, Agent, AgentCard, AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle,
};
use a2a_sse_actix::{A2aEventQueue, Artifact, Part, SseService};
use actix_web::{App, HttpServer};

/// Answers every message with an artifact that counts its words.
struct WordCounter;

impl AgentExecutor for WordCounter {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        task.start_work(None).await?;
        let words: usize = request
            .message
            .parts
            .iter()
            .filter_map(Part::as_text)
            .map(|text| text.split_whitespace().count())
            .sum();
        let artifact = Artifact {
            artifact_id: "count".into(),
            name: Some("count".into()),
            description: None,
            parts: vec![Part::text(words.to_string())],
            metadata: None,
        };
        task.artifact(artifact, false, true).await?;
        task.complete(Some(task.agent_text(format!("{words} words"))))
            .await?;
        Ok(Outcome::Task)
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let card = AgentCard::new("word counter", "Counts the words of a message", "1.0.0");
    let agent = Agent::with_executor(A2aConfig::with_card(card), WordCounter);
    let service = SseService::builder(A2aEventQueue::new())
        .protocol(agent)
        .build()
        .map_err(std::io::Error::other)?;
    println!("agent listening on http://127.0.0.1:3000");
    HttpServer::new(move || App::new().configure(a2a_sse_actix::routes(service.clone())))
        .h1_allow_half_closed(false)
        .bind("127.0.0.1:3000")?
        .run()
        .await
}
