from webapp.launch import main

main()
