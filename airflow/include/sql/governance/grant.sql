GRANT {{ privileges }} ON {{ securable }} TO {{ principal }};
