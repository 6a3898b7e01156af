//! Self-tests for the fake Discord (tests/common/fake_discord.rs).

mod common;

use common::fake_discord::FakeDiscord;

#[tokio::test]
async fn starts() {
    let fake = FakeDiscord::start().await;
    assert!(fake.url().starts_with("http://127.0.0.1:"));
}
