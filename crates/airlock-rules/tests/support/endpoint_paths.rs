//! The request path a corpus name stands for (`tests/requests/<name>/`, `<name>__case.json`): the
//! endpoint table's file names, with a made-up id where the path has one (a client sends a real
//! id; the rules find the template). Shared by the request tests, so a new endpoint is added once.

/// The path of the endpoint named `name`, or `None` for a name that is not an endpoint's.
pub fn path_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "responses" => "/v1/responses",
        "responses_input_tokens" => "/v1/responses/input_tokens",
        "chat_completions" => "/v1/chat/completions",
        "embeddings" => "/v1/embeddings",
        "images_generations" => "/v1/images/generations",
        "images_edits" => "/v1/images/edits",
        "audio_transcriptions" => "/v1/audio/transcriptions",
        "audio_speech" => "/v1/audio/speech",
        "files" => "/v1/files",
        "batches" => "/v1/batches",
        "completions" => "/v1/completions",
        "moderations" => "/v1/moderations",
        // Session 18: the endpoints beyond the first twelve; paths with ids take a made-up one.
        "responses_compact" => "/v1/responses/compact",
        "realtime_client_secrets" => "/v1/realtime/client_secrets",
        "realtime_transcription_sessions" => "/v1/realtime/transcription_sessions",
        "conversations" => "/v1/conversations",
        "conversations_conversation" => "/v1/conversations/conv_abc123",
        "conversations_conversation_items" => "/v1/conversations/conv_abc123/items",
        "vector_stores" => "/v1/vector_stores",
        "vector_stores_store" => "/v1/vector_stores/vs_abc123",
        "vector_stores_store_files" => "/v1/vector_stores/vs_abc123/files",
        "vector_stores_store_file_batches" => "/v1/vector_stores/vs_abc123/file_batches",
        "vector_stores_store_search" => "/v1/vector_stores/vs_abc123/search",
        "fine_tuning_jobs" => "/v1/fine_tuning/jobs",
        "uploads" => "/v1/uploads",
        "uploads_upload_complete" => "/v1/uploads/upload_abc123/complete",
        "evals" => "/v1/evals",
        "containers" => "/v1/containers",
        "videos" => "/v1/videos",
        "assistants" => "/v1/assistants",
        "assistants_assistant" => "/v1/assistants/asst_abc123",
        "threads" => "/v1/threads",
        "threads_runs" => "/v1/threads/runs",
        "threads_thread" => "/v1/threads/thread_abc123",
        "threads_thread_messages" => "/v1/threads/thread_abc123/messages",
        "threads_thread_runs" => "/v1/threads/thread_abc123/runs",
        "threads_thread_runs_run_submit_tool_outputs" => {
            "/v1/threads/thread_abc123/runs/run_abc123/submit_tool_outputs"
        }
        _ => return None,
    })
}
