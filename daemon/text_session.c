extern int zk_text_placeholder; int zk_text_placeholder;
