/* A program that calls nothing: what it loads is decided by its link line. */
int main(void) { return 0; }
